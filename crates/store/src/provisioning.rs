//! What each outbound provisioning connector has done for each directory user or group: the
//! remote record's ID, whether it is in sync, and when to try again after a failure.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::database::Store;
use crate::error::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// The remote record matches the directory.
    InSync,
    /// A change is waiting to be pushed.
    Pending,
    /// The last attempt failed; `detail` says why, `next_attempt_at` when it is retried.
    Failed,
    /// The remote record was removed (the user left the application or the directory).
    Removed,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::InSync => "in_sync",
            SyncState::Pending => "pending",
            SyncState::Failed => "failed",
            SyncState::Removed => "removed",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        Ok(match text {
            "in_sync" => SyncState::InSync,
            "pending" => SyncState::Pending,
            "failed" => SyncState::Failed,
            "removed" => SyncState::Removed,
            other => return Err(StoreError::Backend(format!("unknown provisioning state {other:?} in the store"))),
        })
    }
}

/// One connector's record of one directory user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisioningRecord {
    /// Which connector: `scim:NAME`, `connect:APPLICATION`.
    pub connector: String,
    /// The directory user's or group's ID (groups carry a `group:` prefix).
    pub subject_id: String,
    /// Its name when last seen, so a record stays readable after the subject is gone.
    pub subject_name: String,
    /// The record's ID at the remote side, once created there.
    pub remote_id: Option<String>,
    pub state: SyncState,
    pub detail: String,
    /// Failed attempts in a row.
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub updated_at: i64,
}

pub trait ProvisioningStore {
    /// Creates or replaces the record of (connector, subject).
    fn save_provisioning(&self, record: &ProvisioningRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn provisioning(
        &self,
        connector: &str,
        subject_id: &str,
    ) -> impl Future<Output = Result<Option<ProvisioningRecord>, StoreError>> + Send;
    /// Records of a connector (all connectors when `None`), by connector and subject name.
    fn list_provisioning(
        &self,
        connector: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ProvisioningRecord>, StoreError>> + Send;
    fn delete_provisioning(
        &self,
        connector: &str,
        subject_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// How many records each connector has in each state (states without records left out).
    fn count_provisioning(&self) -> impl Future<Output = Result<Vec<(String, SyncState, i64)>, StoreError>> + Send;
}

const COLUMNS: &str =
    "connector, subject_id, subject_name, remote_id, state, detail, attempts, next_attempt_at, updated_at";

fn from_row(row: &AnyRow) -> Result<ProvisioningRecord, StoreError> {
    let state: String = row.try_get("state").map_err(StoreError::backend)?;
    Ok(ProvisioningRecord {
        connector: row.try_get("connector").map_err(StoreError::backend)?,
        subject_id: row.try_get("subject_id").map_err(StoreError::backend)?,
        subject_name: row.try_get("subject_name").map_err(StoreError::backend)?,
        remote_id: row.try_get("remote_id").map_err(StoreError::backend)?,
        state: SyncState::parse(&state)?,
        detail: row.try_get("detail").map_err(StoreError::backend)?,
        attempts: row.try_get("attempts").map_err(StoreError::backend)?,
        next_attempt_at: row.try_get("next_attempt_at").map_err(StoreError::backend)?,
        updated_at: row.try_get("updated_at").map_err(StoreError::backend)?,
    })
}

impl ProvisioningStore for Store {
    async fn save_provisioning(&self, r: &ProvisioningRecord) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO provisioning_status ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (connector, subject_id) DO UPDATE SET subject_name = excluded.subject_name, \
             remote_id = excluded.remote_id, state = excluded.state, detail = excluded.detail, \
             attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, updated_at = excluded.updated_at"
        ))
        .bind(&r.connector)
        .bind(&r.subject_id)
        .bind(&r.subject_name)
        .bind(&r.remote_id)
        .bind(r.state.as_str())
        .bind(&r.detail)
        .bind(r.attempts)
        .bind(r.next_attempt_at)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn provisioning(&self, connector: &str, subject_id: &str) -> Result<Option<ProvisioningRecord>, StoreError> {
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM provisioning_status WHERE connector = $1 AND subject_id = $2"))
                .bind(connector)
                .bind(subject_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_provisioning(&self, connector: Option<&str>) -> Result<Vec<ProvisioningRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM provisioning_status WHERE ($1 IS NULL OR connector = $1) \
             ORDER BY connector, subject_name, subject_id"
        ))
        .bind(connector)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(from_row).collect()
    }

    async fn delete_provisioning(&self, connector: &str, subject_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM provisioning_status WHERE connector = $1 AND subject_id = $2")
            .bind(connector)
            .bind(subject_id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn count_provisioning(&self) -> Result<Vec<(String, SyncState, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT connector, state, COUNT(*) AS n FROM provisioning_status GROUP BY connector, state ORDER BY connector",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter()
            .map(|row| {
                let connector: String = row.try_get("connector").map_err(StoreError::backend)?;
                let state: String = row.try_get("state").map_err(StoreError::backend)?;
                let n: i64 = row.try_get("n").map_err(StoreError::backend)?;
                Ok((connector, SyncState::parse(&state)?, n))
            })
            .collect()
    }
}
