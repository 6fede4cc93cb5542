//! Bearer tokens of the admin API and the SCIM server. Only a digest of each token is stored;
//! the caller computes it (the store never sees a token). A rotation issues a successor and
//! bounds the old token's expiry in one transaction, each naming the other.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::database::Store;
use crate::error::StoreError;
use crate::id::new_id;

/// A token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: String,
    /// What the token opens: `admin` or `scim`.
    pub purpose: String,
    /// A label chosen by whoever created it ("entra-provisioning").
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The token this one replaced by a rotation.
    pub rotated_from: Option<String>,
    /// The token a rotation replaced this one with; this one works until its (shortened) expiry.
    pub replaced_by: Option<String>,
}

impl ApiToken {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// What a rotation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The old token, its expiry now bounded and its successor named, and the successor.
    Rotated { old: ApiToken, new: ApiToken },
    /// The token, as found, is revoked, expired or already replaced: nothing was written.
    Refused(ApiToken),
}

/// What is needed to record a new token.
#[derive(Debug, Clone, Copy)]
pub struct NewToken<'a> {
    pub purpose: &'a str,
    pub name: &'a str,
    pub digest: &'a str,
    pub expires_at: Option<i64>,
}

pub trait TokenStore {
    fn create_token(&self, token: NewToken<'_>, now: i64) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;
    /// The token with this digest, live or not.
    fn find_token(&self, digest: &str) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;
    /// Tokens of a purpose, newest first.
    fn list_tokens(&self, purpose: &str) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;
    /// Revokes a token of `purpose`; revoking twice keeps the first time.
    fn revoke_token(
        &self,
        purpose: &str,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<ApiToken, StoreError>> + Send;
    /// Replaces the live token `id` of `purpose` by `successor` in one transaction: the
    /// successor is recorded with `rotated_from`, and the old token gets `replaced_by` and an
    /// expiry of at most `old_expires_by` (an earlier one is kept). A token that is revoked,
    /// expired at `now` or already replaced is [`Rotation::Refused`]; an unknown one is
    /// [`StoreError::NotFound`].
    fn rotate_token(
        &self,
        purpose: &str,
        id: &str,
        successor: NewToken<'_>,
        old_expires_by: i64,
        now: i64,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;
    /// Records a use, at most once a minute per token to keep writes down.
    fn touch_token(&self, id: &str, now: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
}

const COLUMNS: &str = "id, purpose, name, created_at, expires_at, revoked_at, last_used_at, rotated_from, replaced_by";

fn from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id").map_err(StoreError::backend)?,
        purpose: row.try_get("purpose").map_err(StoreError::backend)?,
        name: row.try_get("name").map_err(StoreError::backend)?,
        created_at: row.try_get("created_at").map_err(StoreError::backend)?,
        expires_at: row.try_get("expires_at").map_err(StoreError::backend)?,
        revoked_at: row.try_get("revoked_at").map_err(StoreError::backend)?,
        last_used_at: row.try_get("last_used_at").map_err(StoreError::backend)?,
        rotated_from: row.try_get("rotated_from").map_err(StoreError::backend)?,
        replaced_by: row.try_get("replaced_by").map_err(StoreError::backend)?,
    })
}

/// The record of a new token, once its name and expiry are found acceptable.
fn new_record(token: &NewToken<'_>, rotated_from: Option<&str>, now: i64) -> Result<ApiToken, StoreError> {
    if token.name.trim().is_empty() || token.name.len() > 128 || token.name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "token name {:?}: give 1 to 128 characters, no control characters",
            token.name
        )));
    }
    if token.expires_at.is_some_and(|e| e <= now) {
        return Err(StoreError::Invalid("token expiry: it must lie in the future".to_string()));
    }
    Ok(ApiToken {
        id: new_id(),
        purpose: token.purpose.to_string(),
        name: token.name.to_string(),
        created_at: now,
        expires_at: token.expires_at,
        revoked_at: None,
        last_used_at: None,
        rotated_from: rotated_from.map(str::to_string),
        replaced_by: None,
    })
}

/// Inserts `record` with `digest`, in a transaction or on the pool.
async fn insert<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    record: &ApiToken,
    digest: &str,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO api_tokens ({COLUMNS}, token_digest) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6, NULL, $7)"
    ))
    .bind(&record.id)
    .bind(&record.purpose)
    .bind(&record.name)
    .bind(record.created_at)
    .bind(record.expires_at)
    .bind(&record.rotated_from)
    .bind(digest)
    .execute(executor)
    .await
    .map_err(|e| StoreError::from_sqlx(e, "token", |_| None))?;
    Ok(())
}

impl Store {
    async fn token_where(&self, condition: &str, values: &[&str]) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE {condition}");
        let mut query = sqlx::query(&sql);
        for value in values {
            query = query.bind(*value);
        }
        let row = query.fetch_optional(&self.pool).await.map_err(StoreError::backend)?;
        row.as_ref().map(from_row).transpose()
    }
}

impl TokenStore for Store {
    async fn create_token(&self, token: NewToken<'_>, now: i64) -> Result<ApiToken, StoreError> {
        let created = new_record(&token, None, now)?;
        insert(&self.pool, &created, token.digest).await?;
        Ok(created)
    }

    async fn find_token(&self, digest: &str) -> Result<Option<ApiToken>, StoreError> {
        self.token_where("token_digest = $1", &[digest]).await
    }

    async fn list_tokens(&self, purpose: &str) -> Result<Vec<ApiToken>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE purpose = $1 ORDER BY created_at DESC, id"))
                .bind(purpose)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        rows.iter().map(from_row).collect()
    }

    async fn revoke_token(&self, purpose: &str, id: &str, now: i64) -> Result<ApiToken, StoreError> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND purpose = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .bind(purpose)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        self.token_where("id = $1 AND purpose = $2", &[id, purpose])
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "token", key: id.to_string() })
    }

    async fn rotate_token(
        &self,
        purpose: &str,
        id: &str,
        successor: NewToken<'_>,
        old_expires_by: i64,
        now: i64,
    ) -> Result<Rotation, StoreError> {
        let new = new_record(&successor, Some(id), now)?;
        let mut tx = self.begin_write().await?;
        // The conditions are the guard: of two rotations of one token at once, one changes the
        // row and the other finds it replaced.
        let bounded = sqlx::query(
            "UPDATE api_tokens SET replaced_by = $1, \
             expires_at = CASE WHEN expires_at IS NULL OR expires_at > $2 THEN $2 ELSE expires_at END \
             WHERE id = $3 AND purpose = $4 AND revoked_at IS NULL AND replaced_by IS NULL \
             AND (expires_at IS NULL OR expires_at > $5)",
        )
        .bind(&new.id)
        .bind(old_expires_by)
        .bind(id)
        .bind(purpose)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        if bounded.rows_affected() == 0 {
            drop(tx);
            return match self.token_where("id = $1 AND purpose = $2", &[id, purpose]).await? {
                Some(found) => Ok(Rotation::Refused(found)),
                None => Err(StoreError::NotFound { what: "token", key: id.to_string() }),
            };
        }
        insert(&mut *tx, &new, successor.digest).await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        let old = from_row(&row)?;
        // Dropping the transaction on an error above rolls it back: both or neither.
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(Rotation::Rotated { old, new })
    }

    async fn touch_token(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(now - 60)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }
}
