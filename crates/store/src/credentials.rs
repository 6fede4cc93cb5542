//! Credentials of the built-in directory and the failed-login counters behind throttling.

use sqlx::Row;

use crate::database::Store;
use crate::error::StoreError;

/// A user's stored secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredCredentials {
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
}

/// How many failures lock a subject, within what window, for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: i64,
    pub window_seconds: i64,
    pub lock_seconds: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy { max_failures: 5, window_seconds: 15 * 60, lock_seconds: 15 * 60 }
    }
}

pub trait CredentialStore {
    fn credentials(&self, user_id: &str) -> impl Future<Output = Result<StoredCredentials, StoreError>> + Send;
    fn set_password_hash(
        &self,
        user_id: &str,
        hash: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn set_totp_secret(
        &self,
        user_id: &str,
        secret: Option<&str>,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Records that the TOTP code of `step` was used; false if that step (or a later one) was
    /// already used, which makes the code a replay.
    fn use_totp_step(&self, user_id: &str, step: i64) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Until when `subject` is locked out (0 if it is not).
    fn locked_until(&self, subject: &str, now: i64) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Counts a failure; returns until when the subject is now locked (0 if not).
    fn record_failure(
        &self,
        subject: &str,
        policy: &ThrottlePolicy,
        now: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn clear_failures(&self, subject: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Sets a password hash inside a transaction (one statement: the row is created if missing).
pub(crate) async fn write_password_hash(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
    hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO credentials (user_id, password_hash, totp_secret, totp_last_step, updated_at) \
         VALUES ($1, $2, NULL, 0, $3) \
         ON CONFLICT (user_id) DO UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| StoreError::missing_user(e, user_id))?;
    Ok(())
}

impl Store {
    async fn ensure_credentials_row(&self, user_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (user_id, password_hash, totp_secret, totp_last_step, updated_at) \
             VALUES ($1, NULL, NULL, 0, $2) ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::missing_user(e, user_id))?;
        Ok(())
    }
}

impl CredentialStore for Store {
    async fn credentials(&self, user_id: &str) -> Result<StoredCredentials, StoreError> {
        let row = sqlx::query("SELECT password_hash, totp_secret, totp_last_step FROM credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        match row {
            Some(row) => Ok(StoredCredentials {
                password_hash: row.try_get("password_hash").map_err(StoreError::backend)?,
                totp_secret: row.try_get("totp_secret").map_err(StoreError::backend)?,
                totp_last_step: row.try_get("totp_last_step").map_err(StoreError::backend)?,
            }),
            None => Ok(StoredCredentials::default()),
        }
    }

    async fn set_password_hash(&self, user_id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if let Err(e) = write_password_hash(&mut tx, user_id, hash, now).await {
            // Rolled back before answering: a dropped transaction rolls back later, and until
            // then its write lock keeps every other writer waiting.
            let _ = tx.rollback().await;
            return Err(e);
        }
        tx.commit().await.map_err(StoreError::backend)
    }

    async fn set_totp_secret(&self, user_id: &str, secret: Option<&str>, now: i64) -> Result<(), StoreError> {
        self.ensure_credentials_row(user_id, now).await?;
        sqlx::query("UPDATE credentials SET totp_secret = $1, totp_last_step = 0, updated_at = $2 WHERE user_id = $3")
            .bind(secret)
            .bind(now)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        // One conditional update: two instances racing on the same code cannot both accept it.
        let result =
            sqlx::query("UPDATE credentials SET totp_last_step = $1 WHERE user_id = $2 AND totp_last_step < $3")
                .bind(step)
                .bind(user_id)
                .bind(step)
                .execute(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        Ok(result.rows_affected() == 1)
    }

    async fn locked_until(&self, subject: &str, now: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT locked_until FROM login_throttle WHERE subject = $1")
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let until: i64 = match row {
            Some(row) => row.try_get("locked_until").map_err(StoreError::backend)?,
            None => 0,
        };
        Ok(if until > now { until } else { 0 })
    }

    async fn record_failure(&self, subject: &str, policy: &ThrottlePolicy, now: i64) -> Result<i64, StoreError> {
        // A failure outside the window starts a new one; reaching the maximum locks.
        let row = sqlx::query(
            "INSERT INTO login_throttle (subject, failures, window_start, locked_until) VALUES ($1, 1, $2, 0) \
             ON CONFLICT (subject) DO UPDATE SET \
               failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 ELSE login_throttle.failures + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $4 THEN $5 ELSE login_throttle.window_start END \
             RETURNING failures, locked_until",
        )
        .bind(subject)
        .bind(now)
        .bind(now - policy.window_seconds)
        .bind(now - policy.window_seconds)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        let failures: i64 = row.try_get("failures").map_err(StoreError::backend)?;
        let locked: i64 = row.try_get("locked_until").map_err(StoreError::backend)?;
        if failures >= policy.max_failures && locked <= now {
            let until = now + policy.lock_seconds;
            sqlx::query(
                "UPDATE login_throttle SET locked_until = $1, failures = 0, window_start = $2 WHERE subject = $3",
            )
            .bind(until)
            .bind(now)
            .bind(subject)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
            return Ok(until);
        }
        Ok(if locked > now { locked } else { 0 })
    }

    async fn clear_failures(&self, subject: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_throttle WHERE subject = $1")
            .bind(subject)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
