//! Who may open an application: users and groups, by name, matched as the directory matches
//! names ([`PrincipalName`]). Renaming or deleting a user or group carries its assignments along
//! inside the directory's own transaction. An assignment the configuration file owns also keeps
//! the name the file gave, which renames leave alone: the file's next start finds its assignment
//! under the principal's new name rather than replacing it with one to the old name.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::catalog::{ManagedBy, bump_generation};
use crate::database::Store;
use crate::error::StoreError;
use crate::names::PrincipalName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

pub trait AssignmentStore {
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
    /// other owner's alone. An assignment is matched by the name it was made to, so one whose
    /// user or group was renamed since is kept as it is. Returns how many were added and removed.
    fn replace_assignments(
        &self,
        application_id: &str,
        owner: ManagedBy,
        wanted: &[(PrincipalKind, String)],
        now: i64,
    ) -> impl Future<Output = Result<(usize, usize), StoreError>> + Send;
}

const ASSIGNMENT_COLUMNS: &str = "application_id, principal_kind, principal_name, managed_by, created_at";

/// Assignments match names as the directory does.
fn principal_key(name: &str) -> String {
    PrincipalName::key_of(name)
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

/// Inserts an assignment unless one for the same principal exists, with the name it was declared
/// under when the configuration file makes it; returns the rows added.
async fn insert_assignment(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    a: &Assignment,
    declared: Option<&str>,
) -> Result<u64, StoreError> {
    let result = sqlx::query(&format!(
        "INSERT INTO app_assignments (declared_name, principal_key, {ASSIGNMENT_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (application_id, principal_kind, principal_key) DO NOTHING"
    ))
    .bind(declared)
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

impl AssignmentStore for Store {
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
        let added = insert_assignment(&mut tx, a, None).await? > 0;
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
        let wanted_keys: Vec<(PrincipalKind, String)> =
            wanted.iter().map(|(kind, name)| (*kind, principal_key(name))).collect();
        let (kept, unwanted): (Vec<Owned>, Vec<Owned>) = self
            .owned_assignments(application_id, owner)
            .await?
            .into_iter()
            .partition(|a| wanted_keys.contains(&(a.kind, principal_key(&a.declared))));
        let mut tx = self.begin_write().await?;
        for a in &unwanted {
            sqlx::query(
                "DELETE FROM app_assignments WHERE application_id = $1 AND principal_kind = $2 \
                 AND principal_key = $3 AND managed_by = $4",
            )
            .bind(application_id)
            .bind(a.kind.as_str())
            .bind(&a.key)
            .bind(owner.as_str())
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        }
        let mut added = 0;
        for (kind, name) in wanted {
            if kept.iter().any(|a| a.kind == *kind && PrincipalName::same(&a.declared, name)) {
                continue;
            }
            let assignment = Assignment {
                application_id: application_id.to_string(),
                kind: *kind,
                name: name.clone(),
                managed_by: owner,
                created_at: now,
            };
            let inserted = insert_assignment(&mut tx, &assignment, Some(name)).await?;
            added += usize::try_from(inserted).unwrap_or(0);
        }
        if added + unwanted.len() > 0 {
            bump_generation(&mut tx).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok((added, unwanted.len()))
    }
}

/// An assignment of one owner: its principal as it is now (kind and key), and the name it was
/// made to (the principal's current name when none was recorded).
struct Owned {
    kind: PrincipalKind,
    key: String,
    declared: String,
}

impl Store {
    async fn owned_assignments(&self, application_id: &str, owner: ManagedBy) -> Result<Vec<Owned>, StoreError> {
        let rows = sqlx::query(
            "SELECT principal_kind, principal_key, principal_name, declared_name FROM app_assignments \
             WHERE application_id = $1 AND managed_by = $2",
        )
        .bind(application_id)
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        let text = |row: &AnyRow, column: &str| row.try_get::<String, _>(column).map_err(StoreError::backend);
        rows.iter()
            .map(|row| {
                let declared: Option<String> = row.try_get("declared_name").map_err(StoreError::backend)?;
                Ok(Owned {
                    kind: PrincipalKind::parse(&text(row, "principal_kind")?)?,
                    key: text(row, "principal_key")?,
                    declared: declared.map_or_else(|| text(row, "principal_name"), Ok)?,
                })
            })
            .collect()
    }
}
