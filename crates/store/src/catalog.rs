//! What applications and their assignments share: who owns a record (the configuration file,
//! replaced at every start, or the admin API), and the generation counter every change to
//! either bumps, so a hub instance can keep the catalog in memory and notice another instance's
//! change with one cheap read.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::database::Store;
use crate::error::StoreError;

/// Who owns a record: the configuration file (replaced at every start) or the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagedBy {
    Config,
    Api,
}

impl ManagedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedBy::Config => "config",
            ManagedBy::Api => "api",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "config" => Ok(ManagedBy::Config),
            "api" => Ok(ManagedBy::Api),
            other => Err(StoreError::Backend(format!("unknown owner {other:?} in the store"))),
        }
    }
}

/// Marks the catalog changed, inside the transaction that changed it.
pub(crate) async fn bump_generation(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
    Ok(())
}

/// The current generation.
pub(crate) async fn read_generation(store: &Store) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT generation FROM catalog_generation WHERE id = 1")
        .fetch_one(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    row.try_get("generation").map_err(StoreError::backend)
}
