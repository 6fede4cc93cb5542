//! Bearer tokens of the admin API and the SCIM server. Only a digest of each token is stored;
//! the caller computes it (the store never sees a token).

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
}

impl ApiToken {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
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
    /// Records a use, at most once a minute per token to keep writes down.
    fn touch_token(&self, id: &str, now: i64) -> impl Future<Output = Result<(), StoreError>> + Send;
}

const COLUMNS: &str = "id, purpose, name, created_at, expires_at, revoked_at, last_used_at";

fn from_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        id: row.try_get("id").map_err(StoreError::backend)?,
        purpose: row.try_get("purpose").map_err(StoreError::backend)?,
        name: row.try_get("name").map_err(StoreError::backend)?,
        created_at: row.try_get("created_at").map_err(StoreError::backend)?,
        expires_at: row.try_get("expires_at").map_err(StoreError::backend)?,
        revoked_at: row.try_get("revoked_at").map_err(StoreError::backend)?,
        last_used_at: row.try_get("last_used_at").map_err(StoreError::backend)?,
    })
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
        if token.name.trim().is_empty() || token.name.len() > 128 || token.name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(format!(
                "token name {:?}: give 1 to 128 characters, no control characters",
                token.name
            )));
        }
        if token.expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::Invalid("token expiry: it must lie in the future".to_string()));
        }
        let created = ApiToken {
            id: new_id(),
            purpose: token.purpose.to_string(),
            name: token.name.to_string(),
            created_at: now,
            expires_at: token.expires_at,
            revoked_at: None,
            last_used_at: None,
        };
        sqlx::query(&format!(
            "INSERT INTO api_tokens ({COLUMNS}, token_digest) VALUES ($1, $2, $3, $4, $5, NULL, NULL, $6)"
        ))
        .bind(&created.id)
        .bind(&created.purpose)
        .bind(&created.name)
        .bind(now)
        .bind(created.expires_at)
        .bind(token.digest)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::from_sqlx(e, "token", |_| None))?;
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
