//! Named leases: at most one holder at a time, until the lease expires or its holder releases
//! it. Hub instances sharing one database take a connector's lease before running its
//! provisioning pass, so two instances never push the same connector at once; an instance that
//! dies without releasing its lease only blocks the others until the lease expires.
//!
//! Expiry compares the `now` each caller passes in, so the instances' clocks must agree to well
//! within a lease's time to live.

use serde::Serialize;
use sqlx::Row;

use crate::database::Store;
use crate::error::StoreError;

/// A lease as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub name: String,
    /// Who holds it: an instance's own identifier (host, process, random part).
    pub holder: String,
    /// When this holder took it; renewals keep it.
    pub acquired_at: i64,
    pub expires_at: i64,
}

pub trait LeaseStore {
    /// Takes lease `name` for `holder` until `now + ttl_seconds` when it is free, expired or
    /// already held by `holder` (a renewal); true when `holder` holds it afterwards. One
    /// statement: of several holders racing for a free lease exactly one wins.
    fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_seconds: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Gives the lease up if `holder` holds it, so another holder can take it at once; true when
    /// it did (false: someone else holds it, or nobody).
    fn release_lease(&self, name: &str, holder: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The unexpired lease `name` at `now`, if anyone holds it.
    fn current_lease(&self, name: &str, now: i64) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send;
}

fn check(field: &str, value: &str) -> Result<(), StoreError> {
    if value.is_empty() || value.len() > 256 || value.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "lease {field} {value:?}: give 1 to 256 characters, no control characters"
        )));
    }
    Ok(())
}

impl LeaseStore for Store {
    async fn try_acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        ttl_seconds: i64,
    ) -> Result<bool, StoreError> {
        check("name", name)?;
        check("holder", holder)?;
        if ttl_seconds <= 0 {
            return Err(StoreError::Invalid(format!(
                "lease time to live {ttl_seconds}: give a positive number of seconds"
            )));
        }
        let expires_at = now.saturating_add(ttl_seconds);
        // Inserted when free; otherwise taken over only when expired or renewed by its holder.
        // The conflict's row lock (PostgreSQL) or the write lock (SQLite) makes the condition and
        // the update one step, so a racing holder sees the winner's row and changes nothing.
        let result = sqlx::query(
            "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
             acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END \
             WHERE leases.expires_at <= $3 OR leases.holder = $2",
        )
        .bind(name)
        .bind(holder)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        Ok(result.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected() == 1)
    }

    async fn current_lease(&self, name: &str, now: i64) -> Result<Option<Lease>, StoreError> {
        let row =
            sqlx::query("SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = $1 AND expires_at > $2")
                .bind(name)
                .bind(now)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        row.map(|row| {
            Ok(Lease {
                name: row.try_get("name").map_err(StoreError::backend)?,
                holder: row.try_get("holder").map_err(StoreError::backend)?,
                acquired_at: row.try_get("acquired_at").map_err(StoreError::backend)?,
                expires_at: row.try_get("expires_at").map_err(StoreError::backend)?,
            })
        })
        .transpose()
    }
}
