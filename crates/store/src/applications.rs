//! Applications. The store keeps an application's settings as an opaque JSON document (the hub
//! owns its meaning); every change bumps the catalog generation ([`crate::catalog`]).

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::catalog::{ManagedBy, bump_generation, read_generation};
use crate::database::Store;
use crate::error::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredApplication {
    pub id: String,
    pub name: String,
    /// The catalog entry it was made from (`amazon-connect`, `aws-account`, `custom-saml`).
    pub template: String,
    /// Its settings, as a JSON document.
    pub definition: String,
    pub managed_by: ManagedBy,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// What [`ApplicationStore::put_application`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    Created,
    Updated,
    Unchanged,
}

pub trait ApplicationStore {
    /// A number that changes whenever an application or assignment does.
    fn catalog_generation(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn list_applications(&self) -> impl Future<Output = Result<Vec<StoredApplication>, StoreError>> + Send;
    fn get_application(&self, id: &str) -> impl Future<Output = Result<Option<StoredApplication>, StoreError>> + Send;
    /// Creates the application; [`StoreError::Conflict`] when the ID is taken.
    fn create_application(
        &self,
        application: &StoredApplication,
        now: i64,
    ) -> impl Future<Output = Result<StoredApplication, StoreError>> + Send;
    /// Replaces the application's name and settings if `application.version` is still current.
    fn update_application(
        &self,
        application: &StoredApplication,
        now: i64,
    ) -> impl Future<Output = Result<StoredApplication, StoreError>> + Send;
    /// Creates or replaces the application regardless of version (the configuration file's
    /// bootstrap); an identical definition is left alone.
    fn put_application(
        &self,
        application: &StoredApplication,
        now: i64,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
    /// Deletes the application and its assignments.
    fn delete_application(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

const APP_COLUMNS: &str = "id, name, template, definition, managed_by, created_at, updated_at, version";

fn app_from_row(row: &AnyRow) -> Result<StoredApplication, StoreError> {
    let managed_by: String = row.try_get("managed_by").map_err(StoreError::backend)?;
    Ok(StoredApplication {
        id: row.try_get("id").map_err(StoreError::backend)?,
        name: row.try_get("name").map_err(StoreError::backend)?,
        template: row.try_get("template").map_err(StoreError::backend)?,
        definition: row.try_get("definition").map_err(StoreError::backend)?,
        managed_by: ManagedBy::parse(&managed_by)?,
        created_at: row.try_get("created_at").map_err(StoreError::backend)?,
        updated_at: row.try_get("updated_at").map_err(StoreError::backend)?,
        version: row.try_get("version").map_err(StoreError::backend)?,
    })
}

fn app_conflict(e: sqlx::Error, id: &str) -> StoreError {
    StoreError::from_sqlx(e, "application", |_| Some(id.to_string()))
}

impl ApplicationStore for Store {
    async fn catalog_generation(&self) -> Result<i64, StoreError> {
        read_generation(self).await
    }

    async fn list_applications(&self) -> Result<Vec<StoredApplication>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM applications ORDER BY id"))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        rows.iter().map(app_from_row).collect()
    }

    async fn get_application(&self, id: &str) -> Result<Option<StoredApplication>, StoreError> {
        let row = sqlx::query(&format!("SELECT {APP_COLUMNS} FROM applications WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(app_from_row).transpose()
    }

    async fn create_application(&self, app: &StoredApplication, now: i64) -> Result<StoredApplication, StoreError> {
        let created = StoredApplication { created_at: now, updated_at: now, version: 1, ..app.clone() };
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!("INSERT INTO applications ({APP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(&created.id)
            .bind(&created.name)
            .bind(&created.template)
            .bind(&created.definition)
            .bind(created.managed_by.as_str())
            .bind(now)
            .bind(now)
            .bind(created.version)
            .execute(&mut *tx)
            .await
            .map_err(|e| app_conflict(e, &created.id))?;
        bump_generation(&mut tx).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(created)
    }

    async fn update_application(&self, app: &StoredApplication, now: i64) -> Result<StoredApplication, StoreError> {
        let updated = StoredApplication { updated_at: now, version: app.version + 1, ..app.clone() };
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE applications SET name = $1, template = $2, definition = $3, managed_by = $4, updated_at = $5, \
             version = $6 WHERE id = $7 AND version = $8",
        )
        .bind(&updated.name)
        .bind(&updated.template)
        .bind(&updated.definition)
        .bind(updated.managed_by.as_str())
        .bind(now)
        .bind(updated.version)
        .bind(&app.id)
        .bind(app.version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        if result.rows_affected() == 0 {
            drop(tx);
            let still_there = self.get_application(&app.id).await?.is_some();
            return Err(StoreError::stale_or_missing("application", &app.id, still_there));
        }
        bump_generation(&mut tx).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        let mut stored = updated;
        stored.created_at = self.get_application(&app.id).await?.map_or(stored.created_at, |a| a.created_at);
        Ok(stored)
    }

    async fn put_application(&self, app: &StoredApplication, now: i64) -> Result<PutOutcome, StoreError> {
        // Two tries: another instance starting at the same moment may create it between the
        // read and the insert; then it is compared with what that instance wrote.
        for _ in 0..2 {
            match self.get_application(&app.id).await? {
                None => match self.create_application(app, now).await {
                    Ok(_) => return Ok(PutOutcome::Created),
                    Err(StoreError::Conflict { .. }) => continue,
                    Err(e) => return Err(e),
                },
                Some(current)
                    if current.name == app.name
                        && current.template == app.template
                        && current.definition == app.definition
                        && current.managed_by == app.managed_by =>
                {
                    return Ok(PutOutcome::Unchanged);
                }
                Some(current) => {
                    let replacement = StoredApplication { version: current.version, ..app.clone() };
                    return self.update_application(&replacement, now).await.map(|_| PutOutcome::Updated);
                }
            }
        }
        Err(StoreError::Stale { what: "application", key: app.id.clone() })
    }

    async fn delete_application(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // Explicitly, rather than trusting ON DELETE CASCADE on every SQLite connection.
        sqlx::query("DELETE FROM app_assignments WHERE application_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        let result = sqlx::query("DELETE FROM applications WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: "application", key: id.to_string() });
        }
        bump_generation(&mut tx).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(())
    }
}
