//! The users of the configuration file, by the name the file gives them, and the directory user
//! each one is: made or found at the first start, and the file's since, whatever it is called
//! now. A restart after a rename elsewhere (SCIM, the admin API, the console) therefore finds the
//! renamed user instead of making a second one under the old name. Names are matched as the
//! directory matches them ([`PrincipalName`]).

use sqlx::Row;

use crate::database::Store;
use crate::directory::{User, UserStore};
use crate::error::StoreError;
use crate::names::PrincipalName;

pub trait ConfigUserStore {
    /// The user the configuration file's entry `declared` is, if the file made or found one and
    /// it still exists.
    fn config_user(&self, declared: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// Records that the file's entry `declared` is user `user_id` (replacing what it was).
    fn bind_config_user(&self, declared: &str, user_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl Store {
    /// Every (declared name, user ID) recorded.
    async fn config_users(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query("SELECT declared_name, user_id FROM config_users")
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        rows.iter()
            .map(|row| {
                let declared: String = row.try_get("declared_name").map_err(StoreError::backend)?;
                let user: String = row.try_get("user_id").map_err(StoreError::backend)?;
                Ok((declared, user))
            })
            .collect()
    }
}

impl ConfigUserStore for Store {
    async fn config_user(&self, declared: &str) -> Result<Option<User>, StoreError> {
        let found = self.config_users().await?.into_iter().find(|(name, _)| PrincipalName::same(name, declared));
        match found {
            Some((_, user_id)) => self.get_user(&user_id).await,
            None => Ok(None),
        }
    }

    async fn bind_config_user(&self, declared: &str, user_id: &str) -> Result<(), StoreError> {
        let stale: Vec<String> = self
            .config_users()
            .await?
            .into_iter()
            .filter(|(name, _)| PrincipalName::same(name, declared))
            .map(|(name, _)| name)
            .collect();
        let mut tx = self.begin_write().await?;
        for name in stale {
            sqlx::query("DELETE FROM config_users WHERE declared_name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
        }
        sqlx::query("INSERT INTO config_users (declared_name, user_id) VALUES ($1, $2)")
            .bind(declared)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::missing_user(e, user_id))?;
        tx.commit().await.map_err(StoreError::backend)
    }
}
