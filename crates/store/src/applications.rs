//! Applications and their assignments. The store keeps an application's settings as an opaque
//! JSON document (the hub owns its meaning) and every change bumps one generation counter, so a
//! hub instance can keep the catalog in memory and notice another instance's change cheaply.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::connect::Store;
use crate::error::StoreError;

/// Who owns a record: the configuration file (replaced at every start) or the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "config" => Ok(ManagedBy::Config),
            "api" => Ok(ManagedBy::Api),
            other => Err(StoreError::Backend(format!("unknown owner {other:?} in the store"))),
        }
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    User,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Group => "group",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "user" => Ok(PrincipalKind::User),
            "group" => Ok(PrincipalKind::Group),
            other => Err(StoreError::Backend(format!("unknown principal kind {other:?} in the store"))),
        }
    }
}

/// A user or group (by name) allowed to open an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    pub application_id: String,
    pub kind: PrincipalKind,
    pub name: String,
    pub managed_by: ManagedBy,
    pub created_at: i64,
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
    /// Assignments of one application, or of all when `None`.
    fn list_assignments(
        &self,
        application_id: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Assignment>, StoreError>> + Send;
    /// Adds an assignment; returns false when it was there already (its owner is kept).
    fn assign(&self, assignment: &Assignment) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Removes an assignment; returns false when there was none.
    fn unassign(
        &self,
        application_id: &str,
        kind: PrincipalKind,
        name: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Makes the assignments owned by `owner` exactly `wanted`, in one transaction, leaving the
    /// other owner's alone. Returns how many were added and removed.
    fn replace_assignments(
        &self,
        application_id: &str,
        owner: ManagedBy,
        wanted: &[(PrincipalKind, String)],
        now: i64,
    ) -> impl Future<Output = Result<(usize, usize), StoreError>> + Send;
}

const APP_COLUMNS: &str = "id, name, template, definition, managed_by, created_at, updated_at, version";
const ASSIGNMENT_COLUMNS: &str = "application_id, principal_kind, principal_name, managed_by, created_at";

/// Assignments match names as the directory does: case-insensitively.
use crate::directory::name_key as principal_key;

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

fn assignment_from_row(row: &AnyRow) -> Result<Assignment, StoreError> {
    let kind: String = row.try_get("principal_kind").map_err(StoreError::backend)?;
    let managed_by: String = row.try_get("managed_by").map_err(StoreError::backend)?;
    Ok(Assignment {
        application_id: row.try_get("application_id").map_err(StoreError::backend)?,
        kind: PrincipalKind::parse(&kind)?,
        name: row.try_get("principal_name").map_err(StoreError::backend)?,
        managed_by: ManagedBy::parse(&managed_by)?,
        created_at: row.try_get("created_at").map_err(StoreError::backend)?,
    })
}

/// Marks the catalog changed, inside the transaction that changed it.
pub(crate) async fn bump_generation(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Carries a user's or group's assignments over to its new name (an assignment already made
/// to the new name wins), inside the transaction that renames it.
pub(crate) async fn rename_principal(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: PrincipalKind,
    old_key: &str,
    new_name: &str,
) -> Result<(), StoreError> {
    let new_key = principal_key(new_name);
    if old_key == new_key {
        // Same key: only the spelling may differ.
        let result = sqlx::query(
            "UPDATE app_assignments SET principal_name = $1 \
             WHERE principal_kind = $2 AND principal_key = $3 AND principal_name <> $1",
        )
        .bind(new_name)
        .bind(kind.as_str())
        .bind(old_key)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        if result.rows_affected() > 0 {
            bump_generation(tx).await?;
        }
        return Ok(());
    }
    sqlx::query(
        "DELETE FROM app_assignments WHERE principal_kind = $1 AND principal_key = $2 AND application_id IN \
         (SELECT application_id FROM app_assignments WHERE principal_kind = $1 AND principal_key = $3)",
    )
    .bind(kind.as_str())
    .bind(&new_key)
    .bind(old_key)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::backend)?;
    let result = sqlx::query(
        "UPDATE app_assignments SET principal_key = $1, principal_name = $2 \
         WHERE principal_kind = $3 AND principal_key = $4",
    )
    .bind(&new_key)
    .bind(new_name)
    .bind(kind.as_str())
    .bind(old_key)
    .execute(&mut **tx)
    .await
    .map_err(StoreError::backend)?;
    if result.rows_affected() > 0 {
        bump_generation(tx).await?;
    }
    Ok(())
}

/// Drops a deleted user's or group's assignments, inside the transaction that deletes it: a
/// later account with the same name must not inherit them.
pub(crate) async fn forget_principal(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: PrincipalKind,
    key: &str,
) -> Result<(), StoreError> {
    let result = sqlx::query("DELETE FROM app_assignments WHERE principal_kind = $1 AND principal_key = $2")
        .bind(kind.as_str())
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
    if result.rows_affected() > 0 {
        bump_generation(tx).await?;
    }
    Ok(())
}

/// Inserts an assignment unless one for the same principal exists; returns the rows added.
async fn insert_assignment(tx: &mut sqlx::Transaction<'static, sqlx::Any>, a: &Assignment) -> Result<u64, StoreError> {
    let result = sqlx::query(&format!(
        "INSERT INTO app_assignments (principal_key, {ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (application_id, principal_kind, principal_key) DO NOTHING"
    ))
    .bind(principal_key(&a.name))
    .bind(&a.application_id)
    .bind(a.kind.as_str())
    .bind(&a.name)
    .bind(a.managed_by.as_str())
    .bind(a.created_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::NotFound { what: "application", key: a.application_id.clone() }
        }
        _ => StoreError::backend(e),
    })?;
    Ok(result.rows_affected())
}

fn app_conflict(e: sqlx::Error, id: &str) -> StoreError {
    StoreError::from_sqlx(e, "application", |_| Some(id.to_string()))
}

impl ApplicationStore for Store {
    async fn catalog_generation(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT generation FROM catalog_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.try_get("generation").map_err(StoreError::backend)
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

    async fn list_assignments(&self, application_id: Option<&str>) -> Result<Vec<Assignment>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSIGNMENT_COLUMNS} FROM app_assignments WHERE ($1 IS NULL OR application_id = $1) \
             ORDER BY application_id, principal_kind, principal_key"
        ))
        .bind(application_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(assignment_from_row).collect()
    }

    async fn assign(&self, a: &Assignment) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = insert_assignment(&mut tx, a).await? > 0;
        if added {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(added)
    }

    async fn unassign(&self, application_id: &str, kind: PrincipalKind, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "DELETE FROM app_assignments WHERE application_id = $1 AND principal_kind = $2 AND principal_key = $3",
        )
        .bind(application_id)
        .bind(kind.as_str())
        .bind(principal_key(name))
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
        let removed = result.rows_affected() > 0;
        if removed {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(removed)
    }

    async fn replace_assignments(
        &self,
        application_id: &str,
        owner: ManagedBy,
        wanted: &[(PrincipalKind, String)],
        now: i64,
    ) -> Result<(usize, usize), StoreError> {
        let current: Vec<Assignment> =
            self.list_assignments(Some(application_id)).await?.into_iter().filter(|a| a.managed_by == owner).collect();
        let wanted_keys: Vec<(PrincipalKind, String)> =
            wanted.iter().map(|(kind, name)| (*kind, principal_key(name))).collect();
        let mut tx = self.begin_write().await?;
        let mut removed = 0;
        for a in &current {
            if !wanted_keys.contains(&(a.kind, principal_key(&a.name))) {
                sqlx::query(
                    "DELETE FROM app_assignments WHERE application_id = $1 AND principal_kind = $2 \
                     AND principal_key = $3 AND managed_by = $4",
                )
                .bind(application_id)
                .bind(a.kind.as_str())
                .bind(principal_key(&a.name))
                .bind(owner.as_str())
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
                removed += 1;
            }
        }
        let mut added = 0;
        for (kind, name) in wanted {
            let assignment = Assignment {
                application_id: application_id.to_string(),
                kind: *kind,
                name: name.clone(),
                managed_by: owner,
                created_at: now,
            };
            let inserted = insert_assignment(&mut tx, &assignment).await?;
            added += usize::try_from(inserted).unwrap_or(0);
        }
        if added + removed > 0 {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok((added, removed))
    }
}
