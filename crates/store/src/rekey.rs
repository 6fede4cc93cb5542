//! Name keys stored by an earlier version of [`PrincipalName::key_of`] (before it folded Unicode
//! normalization), brought up to date when a store opens: the keys are computed by the store's
//! code, so no SQL migration can. Each user and group whose stored key is not its name's key is
//! re-keyed with its assignments, in one transaction each; assignments to names nobody has yet
//! follow. A principal whose new key another one holds already keeps its old key (the two were
//! told apart before, and are the same name now): the store lists it
//! ([`Store::shared_values`]) for an administrator to rename one, and never gives either one the
//! other's assignments.

use sqlx::Row;

use crate::assignments::{PrincipalKind, rename_principal};
use crate::catalog::bump_generation;
use crate::database::Store;
use crate::error::StoreError;
use crate::names::PrincipalName;

/// Where a kind of principal keeps its name and key.
fn columns(kind: PrincipalKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        PrincipalKind::User => ("users", "user_name", "user_name_key"),
        PrincipalKind::Group => ("groups", "display_name", "display_name_key"),
    }
}

/// Brings every stored name key up to date; a store whose keys are current is only read.
pub(crate) async fn rekey_names(store: &Store) -> Result<(), StoreError> {
    for kind in [PrincipalKind::User, PrincipalKind::Group] {
        rekey_principals(store, kind).await?;
    }
    rekey_waiting_assignments(store).await
}

/// (id, name, stored key) of every principal of `kind` whose stored key is out of date, in the
/// order they were created: of two that now share a key, one re-keyed first keeps it.
async fn stale_principals(store: &Store, kind: PrincipalKind) -> Result<Vec<(String, String, String)>, StoreError> {
    let (table, name, key) = columns(kind);
    let rows = sqlx::query(&format!("SELECT id, {name}, {key} FROM {table} ORDER BY created_at, id"))
        .fetch_all(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    let mut stale = Vec::new();
    for row in &rows {
        let text = |column: &str| row.try_get::<String, _>(column).map_err(StoreError::backend);
        let (id, spelled, stored) = (text("id")?, text(name)?, text(key)?);
        if PrincipalName::key_of(&spelled) != stored {
            stale.push((id, spelled, stored));
        }
    }
    Ok(stale)
}

async fn rekey_principals(store: &Store, kind: PrincipalKind) -> Result<(), StoreError> {
    let (table, name, key) = columns(kind);
    for (id, spelled, old_key) in stale_principals(store, kind).await? {
        let mut tx = store.begin_write().await?;
        let updated =
            sqlx::query(&format!("UPDATE {table} SET {key} = $1 WHERE id = $2 AND {name} = $3 AND {key} = $4"))
                .bind(PrincipalName::key_of(&spelled))
                .bind(&id)
                .bind(&spelled)
                .bind(&old_key)
                .execute(&mut *tx)
                .await;
        match updated {
            Ok(done) if done.rows_affected() == 1 => {
                rename_principal(&mut tx, kind, &old_key, &spelled).await?;
                tx.commit().await.map_err(StoreError::backend)?;
            }
            // Renamed meanwhile (its own write keyed it), or the new key is another's: left.
            Ok(_) => {}
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {}
            Err(e) => return Err(StoreError::backend(e)),
        }
    }
    Ok(())
}

/// Assignments to names no user or group has (yet), under an out-of-date key, re-keyed; one
/// that would then repeat another of its application is dropped (the other says the same).
async fn rekey_waiting_assignments(store: &Store) -> Result<(), StoreError> {
    let rows = sqlx::query("SELECT application_id, principal_kind, principal_key, principal_name FROM app_assignments")
        .fetch_all(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    for row in &rows {
        let text = |column: &str| row.try_get::<String, _>(column).map_err(StoreError::backend);
        let (application, kind_text, old_key, spelled) =
            (text("application_id")?, text("principal_kind")?, text("principal_key")?, text("principal_name")?);
        let new_key = PrincipalName::key_of(&spelled);
        let kind = if kind_text == PrincipalKind::Group.as_str() { PrincipalKind::Group } else { PrincipalKind::User };
        if new_key == old_key || held(store, kind, &old_key).await? {
            continue;
        }
        let mut tx = store.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE app_assignments SET principal_key = $1 WHERE application_id = $2 AND principal_kind = $3 \
             AND principal_key = $4 AND NOT EXISTS (SELECT 1 FROM app_assignments WHERE application_id = $2 \
             AND principal_kind = $3 AND principal_key = $1)",
        )
        .bind(&new_key)
        .bind(&application)
        .bind(kind.as_str())
        .bind(&old_key)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        if moved.rows_affected() == 0 {
            sqlx::query(
                "DELETE FROM app_assignments WHERE application_id = $1 AND principal_kind = $2 AND principal_key = $3",
            )
            .bind(&application)
            .bind(kind.as_str())
            .bind(&old_key)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        }
        bump_generation(&mut tx).await?;
        tx.commit().await.map_err(StoreError::backend)?;
    }
    Ok(())
}

/// Whether a user or group holds `key` as its stored key (one that kept an old key because
/// another holds its new one): its assignments stay its own.
async fn held(store: &Store, kind: PrincipalKind, key: &str) -> Result<bool, StoreError> {
    let (table, _, column) = columns(kind);
    let row = sqlx::query(&format!("SELECT 1 AS one FROM {table} WHERE {column} = $1"))
        .bind(key)
        .fetch_optional(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    Ok(row.is_some())
}
