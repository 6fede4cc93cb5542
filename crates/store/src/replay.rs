//! Assertion IDs seen, until they expire: a replay is refused by every instance sharing the store.

use crate::database::Store;
use crate::error::StoreError;

pub trait ReplayStore {
    /// Records `id` until `expires_at`; returns false when it is already recorded and unexpired.
    fn record_once(&self, id: &str, expires_at: i64, now: i64)
    -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl ReplayStore for Store {
    async fn record_once(&self, id: &str, expires_at: i64, now: i64) -> Result<bool, StoreError> {
        // One statement, so two instances racing on the same ID cannot both win; an expired
        // entry with the same ID is taken over.
        let result = sqlx::query(
            "INSERT INTO replay_cache (id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_cache.expires_at <= $3",
        )
        .bind(id)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if result.rows_affected() == 1 && expires_at % 64 == 0 {
            // Occasional sweep of expired entries, so the table stays small without a timer.
            sqlx::query("DELETE FROM replay_cache WHERE expires_at <= $1")
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        }
        Ok(result.rows_affected() == 1)
    }
}
