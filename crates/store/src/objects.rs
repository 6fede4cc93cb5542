//! JSON documents addressed by kind and ID and unique by name within a scope: the shape of the
//! emulated target account's resources, whose fields follow the AWS APIs rather than a schema
//! of ours.

use crate::columns::Columns;
use crate::database::Store;
use crate::direct_read::Direct;
use crate::error::StoreError;

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub kind: String,
    pub scope: String,
    pub name_key: String,
    pub id: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// Where a new document goes.
#[derive(Debug, Clone, Copy)]
pub struct ObjectKey<'a> {
    pub kind: &'a str,
    pub scope: &'a str,
    /// Unique within (kind, scope); callers lower-case it where names are case-insensitive.
    pub name_key: &'a str,
    pub id: &'a str,
}

pub trait ObjectStore {
    /// Stores a new document; a taken name or ID is a [`StoreError::Conflict`].
    fn insert_object(
        &self,
        key: ObjectKey<'_>,
        body: &str,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn get_object(&self, kind: &str, id: &str)
    -> impl Future<Output = Result<Option<StoredObject>, StoreError>> + Send;
    fn find_object(
        &self,
        kind: &str,
        scope: &str,
        name_key: &str,
    ) -> impl Future<Output = Result<Option<StoredObject>, StoreError>> + Send;
    /// Documents of a kind within a scope, by name.
    fn list_objects(
        &self,
        kind: &str,
        scope: &str,
    ) -> impl Future<Output = Result<Vec<StoredObject>, StoreError>> + Send;
    /// Replaces the body if `version` is still the stored one; returns the new version.
    fn update_object(
        &self,
        kind: &str,
        id: &str,
        body: &str,
        version: i64,
        now: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    fn delete_object(&self, kind: &str, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes documents of a kind last changed before `updated_before` or created before
    /// `created_before` (expired sessions, abandoned logins); returns how many went.
    fn delete_stale_objects(
        &self,
        kind: &str,
        updated_before: i64,
        created_before: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

const COLUMNS: &str = "kind, scope, name_key, id, body, created_at, updated_at, version";

fn from_row(row: &impl Columns) -> Result<StoredObject, StoreError> {
    Ok(StoredObject {
        kind: row.text("kind")?,
        scope: row.text("scope")?,
        name_key: row.text("name_key")?,
        id: row.text("id")?,
        body: row.text("body")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        version: row.int("version")?,
    })
}

fn what(kind: &str) -> &'static str {
    // Conflict messages name the record; the kind is chosen by the caller from a fixed set.
    match kind {
        "iam-saml-provider" => "SAML provider",
        "iam-role" => "role",
        "iam-policy" => "policy",
        "sts-credentials" => "credentials",
        "console-session" => "console session",
        "connect-instance" => "Connect instance",
        "connect-user" => "Connect user",
        _ => "object",
    }
}

impl ObjectStore for Store {
    async fn insert_object(&self, key: ObjectKey<'_>, body: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(&format!("INSERT INTO objects ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)"))
            .bind(key.kind)
            .bind(key.scope)
            .bind(key.name_key)
            .bind(key.id)
            .bind(body)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| match StoreError::from_sqlx(e, what(key.kind), |_| None) {
                StoreError::Conflict { what, .. } => {
                    StoreError::Conflict { what, field: "name".to_string(), value: key.name_key.to_string() }
                }
                other => other,
            })?;
        Ok(())
    }

    async fn get_object(&self, kind: &str, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM objects WHERE kind = $1 AND id = $2");
        if let Some(reader) = &self.direct
            && let Direct::Answered(answer) = reader.query_row(&sql, &[&kind, &id], |row| from_row(row))
        {
            return answer;
        }
        let row =
            sqlx::query(&sql).bind(kind).bind(id).fetch_optional(&self.pool).await.map_err(StoreError::backend)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn find_object(&self, kind: &str, scope: &str, name_key: &str) -> Result<Option<StoredObject>, StoreError> {
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE kind = $1 AND scope = $2 AND name_key = $3"))
                .bind(kind)
                .bind(scope)
                .bind(name_key)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_objects(&self, kind: &str, scope: &str) -> Result<Vec<StoredObject>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM objects WHERE kind = $1 AND scope = $2 ORDER BY name_key"))
                .bind(kind)
                .bind(scope)
                .fetch_all(&self.pool)
                .await
                .map_err(StoreError::backend)?;
        rows.iter().map(from_row).collect()
    }

    async fn update_object(&self, kind: &str, id: &str, body: &str, version: i64, now: i64) -> Result<i64, StoreError> {
        let result = sqlx::query(
            "UPDATE objects SET body = $1, updated_at = $2, version = version + 1 WHERE kind = $3 AND id = $4 AND version = $5",
        )
        .bind(body)
        .bind(now)
        .bind(kind)
        .bind(id)
        .bind(version)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if result.rows_affected() == 0 {
            let still_there = self.get_object(kind, id).await?.is_some();
            return Err(StoreError::stale_or_missing(what(kind), id, still_there));
        }
        Ok(version + 1)
    }

    async fn delete_stale_objects(
        &self,
        kind: &str,
        updated_before: i64,
        created_before: i64,
    ) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM objects WHERE kind = $1 AND (updated_at < $2 OR created_at < $3)")
            .bind(kind)
            .bind(updated_before)
            .bind(created_before)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(result.rows_affected())
    }

    async fn delete_object(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM objects WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound { what: what(kind), key: id.to_string() });
        }
        Ok(())
    }
}
