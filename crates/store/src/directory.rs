//! Users, groups and memberships. Uniqueness of userName and group names (by their keys:
//! case-insensitive, Unicode-normalized), of every e-mail address across users (by the same
//! key, through `identities`) and of externalId is enforced by the database's unique indexes, in
//! the transaction that writes the user or group, not by scanning.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::assignments::{PrincipalKind, forget_principal, rename_principal};
use crate::columns::Columns;
use crate::database::Store;
use crate::direct_read::Direct;
use crate::error::StoreError;
use crate::id::new_id;
use crate::identities::{email_key, write_email_keys};
use crate::names::PrincipalName;
use crate::search::{Compiled, Condition, GroupField, Param, UserField, compile};

/// One e-mail address of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub primary: bool,
    /// A label for people, as a provisioning client may send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl Email {
    /// The primary work address: what a directory entry with one address has.
    pub fn work(value: &str) -> Self {
        Email { value: value.to_string(), kind: Some("work".to_string()), primary: true, display: None }
    }
}

/// A directory user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub emails: Vec<Email>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    /// Custom attributes (`${user:attr.NAME}` in mappings).
    pub attributes: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Incremented on every change; updates must present the version they read.
    pub version: i64,
}

impl User {
    /// The primary e-mail, else the first one.
    pub fn email(&self) -> Option<&str> {
        self.emails.iter().find(|e| e.primary).or_else(|| self.emails.first()).map(|e| e.value.as_str())
    }
}

/// Every address of `emails`, as the e-mail index keys them.
fn addresses(emails: &[Email]) -> Vec<&str> {
    emails.iter().map(|e| e.value.as_str()).collect()
}

/// What is needed to create a user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUser {
    pub user_name: String,
    pub external_id: Option<String>,
    pub emails: Vec<Email>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub attributes: BTreeMap<String, String>,
}

/// A directory group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A window of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page { offset: 0, limit: 100 }
    }
}

fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what}: it must not be empty")));
    }
    if name.len() > 256 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("{what} {name:?}: at most 256 characters, no control characters")));
    }
    Ok(())
}

/// The key under which names are unique ([`PrincipalName`]).
fn name_key(name: &str) -> String {
    PrincipalName::key_of(name)
}

pub trait UserStore {
    fn create_user(&self, user: &NewUser, now: i64) -> impl Future<Output = Result<User, StoreError>> + Send;
    fn get_user(&self, id: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// Case-insensitive lookup by userName.
    fn find_user_by_name(&self, user_name: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    fn find_user_by_external_id(
        &self,
        external_id: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// The user one of whose e-mail addresses is `email`, compared by key (case-insensitive,
    /// Unicode-normalized): at most one user has it.
    fn find_user_by_email(&self, email: &str) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
    /// Users ordered by userName, and the total count.
    fn list_users(&self, page: Page) -> impl Future<Output = Result<(Vec<User>, i64), StoreError>> + Send;
    /// Users meeting `condition`, ordered by userName, and how many meet it.
    fn search_users(
        &self,
        condition: &Condition<UserField>,
        page: Page,
    ) -> impl Future<Output = Result<(Vec<User>, i64), StoreError>> + Send;
    /// Creates the user and, when given, its password hash, in one transaction.
    fn create_user_with_password(
        &self,
        user: &NewUser,
        password_hash: Option<&str>,
        now: i64,
    ) -> impl Future<Output = Result<User, StoreError>> + Send;
    /// Saves `user` if its `version` is still the stored one; returns it with the new version.
    fn update_user(&self, user: &User, now: i64) -> impl Future<Output = Result<User, StoreError>> + Send;
    /// [`UserStore::update_user`] and, when given, a new password hash, in one transaction.
    fn update_user_with_password(
        &self,
        user: &User,
        password_hash: Option<&str>,
        now: i64,
    ) -> impl Future<Output = Result<User, StoreError>> + Send;
    fn delete_user(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

pub trait GroupStore {
    fn create_group(
        &self,
        display_name: &str,
        external_id: Option<&str>,
        now: i64,
    ) -> impl Future<Output = Result<Group, StoreError>> + Send;
    fn get_group(&self, id: &str) -> impl Future<Output = Result<Option<Group>, StoreError>> + Send;
    fn find_group_by_name(&self, display_name: &str) -> impl Future<Output = Result<Option<Group>, StoreError>> + Send;
    fn list_groups(&self, page: Page) -> impl Future<Output = Result<(Vec<Group>, i64), StoreError>> + Send;
    /// Groups meeting `condition`, ordered by name, and how many meet it.
    fn search_groups(
        &self,
        condition: &Condition<GroupField>,
        page: Page,
    ) -> impl Future<Output = Result<(Vec<Group>, i64), StoreError>> + Send;
    /// Creates the group with its members in one transaction: an unknown member leaves nothing.
    fn create_group_with_members(
        &self,
        display_name: &str,
        external_id: Option<&str>,
        members: &[String],
        now: i64,
    ) -> impl Future<Output = Result<Group, StoreError>> + Send;
    /// Saves name and externalId if `group.version` is still the stored one.
    fn update_group(&self, group: &Group, now: i64) -> impl Future<Output = Result<Group, StoreError>> + Send;
    /// Saves name, externalId and, when given, the exact membership, in one transaction, if
    /// `group.version` is still the stored one; the version moves either way.
    fn save_group(
        &self,
        group: &Group,
        members: Option<&[String]>,
        now: i64,
    ) -> impl Future<Output = Result<Group, StoreError>> + Send;
    /// Makes `user_ids` the group's exact membership, in one transaction: an unknown user
    /// leaves the membership as it was.
    fn replace_members(
        &self,
        group_id: &str,
        user_ids: &[String],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn delete_group(&self, id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Adds a member; adding an existing member changes nothing.
    fn add_member(&self, group_id: &str, user_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn remove_member(&self, group_id: &str, user_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// IDs of the group's members, sorted.
    fn members(&self, group_id: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// The groups a user belongs to, by name.
    fn groups_of(&self, user_id: &str) -> impl Future<Output = Result<Vec<Group>, StoreError>> + Send;
    /// Every membership as (user ID, group name), by group name: a listing's groups in one read.
    fn group_names_by_user(&self) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
}

const GROUP_COLUMNS: &str = "id, display_name, external_id, created_at, updated_at, version";

const USER_COLUMNS: &str = "id, user_name, external_id, emails, given_name, family_name, display_name, active, \
                            attributes, created_at, updated_at, version";

fn user_from_row(row: &impl Columns) -> Result<User, StoreError> {
    let emails: Vec<Email> = serde_json::from_str(&row.text("emails")?)
        .map_err(|e| StoreError::Backend(format!("stored emails are not valid JSON: {e}")))?;
    let attributes: BTreeMap<String, String> = serde_json::from_str(&row.text("attributes")?)
        .map_err(|e| StoreError::Backend(format!("stored attributes are not valid JSON: {e}")))?;
    Ok(User {
        id: row.text("id")?,
        user_name: row.text("user_name")?,
        external_id: row.optional_text("external_id")?,
        emails,
        given_name: row.optional_text("given_name")?,
        family_name: row.optional_text("family_name")?,
        display_name: row.optional_text("display_name")?,
        active: row.int("active")? != 0,
        attributes,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        version: row.int("version")?,
    })
}

fn group_from_row(row: &AnyRow) -> Result<Group, StoreError> {
    Ok(Group {
        id: row.text("id")?,
        display_name: row.text("display_name")?,
        external_id: row.optional_text("external_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        version: row.int("version")?,
    })
}

fn user_conflict(e: sqlx::Error, user: &User) -> StoreError {
    StoreError::from_sqlx(e, "user", |column| match column {
        "user_name_key" => Some(user.user_name.clone()),
        "external_id" => user.external_id.clone(),
        _ => None,
    })
}

fn group_conflict(e: sqlx::Error, group: &Group) -> StoreError {
    StoreError::from_sqlx(e, "group", |column| match column {
        "display_name_key" => Some(group.display_name.clone()),
        "external_id" => group.external_id.clone(),
        _ => None,
    })
}

/// Adds members inside a transaction; an unknown user is named (and the caller's transaction
/// is then rolled back).
async fn write_members(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    group_id: &str,
    user_ids: &[String],
) -> Result<(), StoreError> {
    for user_id in user_ids {
        sqlx::query("INSERT INTO memberships (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(group_id)
            .bind(user_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| StoreError::missing_user(e, user_id))?;
    }
    Ok(())
}

/// The case-folded name column of a user or group inside a transaction (assignments follow it).
async fn current_key(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &'static str,
    column: &'static str,
    id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(&format!("SELECT {column} FROM {table} WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
    row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::backend)).transpose()
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

impl Store {
    /// The user meeting `condition`, which compares with its one parameter `$1`, `value`.
    async fn user_where(&self, condition: &str, value: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {condition}");
        if let Some(reader) = &self.direct
            && let Direct::Answered(answer) = reader.query_row(&sql, &[&value], |row| user_from_row(row))
        {
            return answer;
        }
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await.map_err(StoreError::backend)?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn group_where(&self, condition: &str, value: &str) -> Result<Option<Group>, StoreError> {
        let sql = format!("SELECT {GROUP_COLUMNS} FROM groups WHERE {condition} = $1");
        let row = sqlx::query(&sql).bind(value).fetch_optional(&self.pool).await.map_err(StoreError::backend)?;
        row.as_ref().map(group_from_row).transpose()
    }

    /// Rows of `table` meeting `compiled`, ordered by `order`, and their count.
    async fn search(
        &self,
        table: &str,
        columns: &str,
        order: &str,
        compiled: &Compiled,
        page: Page,
    ) -> Result<(Vec<AnyRow>, i64), StoreError> {
        let n = compiled.params.len();
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE {} ORDER BY {order} LIMIT ${} OFFSET ${}",
            compiled.sql,
            n + 1,
            n + 2
        );
        let count_sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {}", compiled.sql);
        let mut query = sqlx::query(&sql);
        let mut count = sqlx::query(&count_sql);
        for param in &compiled.params {
            match param {
                Param::Text(t) => {
                    query = query.bind(t.clone());
                    count = count.bind(t.clone());
                }
                Param::Int(i) => {
                    query = query.bind(*i);
                    count = count.bind(*i);
                }
            }
        }
        let rows = query
            .bind(page.limit.clamp(0, 1000))
            .bind(page.offset.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let total = count.fetch_one(&self.pool).await.map_err(StoreError::backend)?;
        Ok((rows, total.try_get::<i64, _>("n").map_err(StoreError::backend)?))
    }

    async fn count(&self, table: &str) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        let row = sqlx::query(&sql).fetch_one(&self.pool).await.map_err(StoreError::backend)?;
        row.try_get::<i64, _>("n").map_err(StoreError::backend)
    }
}

impl UserStore for Store {
    async fn create_user(&self, user: &NewUser, now: i64) -> Result<User, StoreError> {
        self.create_user_with_password(user, None, now).await
    }

    async fn create_user_with_password(
        &self,
        user: &NewUser,
        password_hash: Option<&str>,
        now: i64,
    ) -> Result<User, StoreError> {
        check_name("userName", &user.user_name)?;
        let created = User {
            id: new_id(),
            user_name: user.user_name.clone(),
            external_id: user.external_id.clone(),
            emails: user.emails.clone(),
            given_name: user.given_name.clone(),
            family_name: user.family_name.clone(),
            display_name: user.display_name.clone(),
            active: user.active,
            attributes: user.attributes.clone(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (id, user_name, user_name_key, external_id, primary_email, emails, given_name, \
             family_name, display_name, active, attributes, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(&created.id)
        .bind(&created.user_name)
        .bind(name_key(&created.user_name))
        .bind(&created.external_id)
        .bind(created.email())
        .bind(to_json(&created.emails)?)
        .bind(&created.given_name)
        .bind(&created.family_name)
        .bind(&created.display_name)
        .bind(i64::from(created.active))
        .bind(to_json(&created.attributes)?)
        .bind(now)
        .bind(now)
        .bind(created.version)
        .execute(&mut *tx)
        .await
        .map_err(|e| user_conflict(e, &created))?;
        write_email_keys(&mut tx, &created.id, &addresses(&created.emails)).await?;
        if let Some(hash) = password_hash {
            crate::credentials::write_password_hash(&mut tx, &created.id, hash, now).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(created)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.user_where("id = $1", id).await
    }

    async fn find_user_by_name(&self, user_name: &str) -> Result<Option<User>, StoreError> {
        self.user_where("user_name_key = $1", &name_key(user_name)).await
    }

    async fn find_user_by_external_id(&self, external_id: &str) -> Result<Option<User>, StoreError> {
        self.user_where("external_id = $1", external_id).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(key) = email_key(email) else { return Ok(None) };
        self.user_where("id = (SELECT user_id FROM user_emails WHERE email_key = $1)", &key).await
    }

    async fn list_users(&self, page: Page) -> Result<(Vec<User>, i64), StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY user_name_key LIMIT $1 OFFSET $2");
        let rows = sqlx::query(&sql)
            .bind(page.limit.clamp(0, 1000))
            .bind(page.offset.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok((users, self.count("users").await?))
    }

    async fn search_users(&self, condition: &Condition<UserField>, page: Page) -> Result<(Vec<User>, i64), StoreError> {
        let compiled = compile(condition)?;
        let (rows, total) = self.search("users", USER_COLUMNS, "user_name_key", &compiled, page).await?;
        Ok((rows.iter().map(user_from_row).collect::<Result<Vec<_>, _>>()?, total))
    }

    async fn update_user(&self, user: &User, now: i64) -> Result<User, StoreError> {
        self.update_user_with_password(user, None, now).await
    }

    async fn update_user_with_password(
        &self,
        user: &User,
        password_hash: Option<&str>,
        now: i64,
    ) -> Result<User, StoreError> {
        check_name("userName", &user.user_name)?;
        let mut updated = user.clone();
        updated.version = user.version + 1;
        updated.updated_at = now;
        let mut tx = self.begin_write().await?;
        let old_key = current_key(&mut tx, "users", "user_name_key", &user.id).await?;
        let result = sqlx::query(
            "UPDATE users SET user_name = $1, user_name_key = $2, external_id = $3, primary_email = $4, emails = $5, \
             given_name = $6, family_name = $7, display_name = $8, active = $9, attributes = $10, updated_at = $11, \
             version = $12 WHERE id = $13 AND version = $14",
        )
        .bind(&updated.user_name)
        .bind(name_key(&updated.user_name))
        .bind(&updated.external_id)
        .bind(updated.email())
        .bind(to_json(&updated.emails)?)
        .bind(&updated.given_name)
        .bind(&updated.family_name)
        .bind(&updated.display_name)
        .bind(i64::from(updated.active))
        .bind(to_json(&updated.attributes)?)
        .bind(now)
        .bind(updated.version)
        .bind(&user.id)
        .bind(user.version)
        .execute(&mut *tx)
        .await
        .map_err(|e| user_conflict(e, &updated))?;
        if result.rows_affected() == 0 {
            drop(tx);
            let still_there = self.get_user(&user.id).await?.is_some();
            return Err(StoreError::stale_or_missing("user", &user.id, still_there));
        }
        write_email_keys(&mut tx, &user.id, &addresses(&updated.emails)).await?;
        if let Some(old_key) = old_key {
            rename_principal(&mut tx, PrincipalKind::User, &old_key, &updated.user_name).await?;
        }
        if let Some(hash) = password_hash {
            crate::credentials::write_password_hash(&mut tx, &user.id, hash, now).await?;
        }
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(updated)
    }

    async fn delete_user(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(key) = current_key(&mut tx, "users", "user_name_key", id).await? else {
            return Err(StoreError::NotFound { what: "user", key: id.to_string() });
        };
        forget_principal(&mut tx, PrincipalKind::User, &key).await?;
        // Explicitly, rather than trusting ON DELETE CASCADE on every SQLite connection.
        write_email_keys(&mut tx, id, &[]).await?;
        sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await.map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(())
    }
}

impl GroupStore for Store {
    async fn create_group(&self, display_name: &str, external_id: Option<&str>, now: i64) -> Result<Group, StoreError> {
        self.create_group_with_members(display_name, external_id, &[], now).await
    }

    async fn create_group_with_members(
        &self,
        display_name: &str,
        external_id: Option<&str>,
        members: &[String],
        now: i64,
    ) -> Result<Group, StoreError> {
        check_name("group displayName", display_name)?;
        let group = Group {
            id: new_id(),
            display_name: display_name.to_string(),
            external_id: external_id.map(str::to_string),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO groups (id, display_name, display_name_key, external_id, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&group.id)
        .bind(&group.display_name)
        .bind(name_key(display_name))
        .bind(&group.external_id)
        .bind(now)
        .bind(now)
        .bind(group.version)
        .execute(&mut *tx)
        .await
        .map_err(|e| group_conflict(e, &group))?;
        write_members(&mut tx, &group.id, members).await?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(group)
    }

    async fn get_group(&self, id: &str) -> Result<Option<Group>, StoreError> {
        self.group_where("id", id).await
    }

    async fn find_group_by_name(&self, display_name: &str) -> Result<Option<Group>, StoreError> {
        self.group_where("display_name_key", &name_key(display_name)).await
    }

    async fn list_groups(&self, page: Page) -> Result<(Vec<Group>, i64), StoreError> {
        let rows = sqlx::query(
            "SELECT id, display_name, external_id, created_at, updated_at, version FROM groups \
             ORDER BY display_name_key LIMIT $1 OFFSET $2",
        )
        .bind(page.limit.clamp(0, 1000))
        .bind(page.offset.max(0))
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        let groups = rows.iter().map(group_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok((groups, self.count("groups").await?))
    }

    async fn search_groups(
        &self,
        condition: &Condition<GroupField>,
        page: Page,
    ) -> Result<(Vec<Group>, i64), StoreError> {
        let compiled = compile(condition)?;
        let (rows, total) = self.search("groups", GROUP_COLUMNS, "display_name_key", &compiled, page).await?;
        Ok((rows.iter().map(group_from_row).collect::<Result<Vec<_>, _>>()?, total))
    }

    async fn update_group(&self, group: &Group, now: i64) -> Result<Group, StoreError> {
        self.save_group(group, None, now).await
    }

    async fn save_group(&self, group: &Group, members: Option<&[String]>, now: i64) -> Result<Group, StoreError> {
        check_name("group displayName", &group.display_name)?;
        let mut updated = group.clone();
        updated.version = group.version + 1;
        updated.updated_at = now;
        let mut tx = self.begin_write().await?;
        let old_key = current_key(&mut tx, "groups", "display_name_key", &group.id).await?;
        let result = sqlx::query(
            "UPDATE groups SET display_name = $1, display_name_key = $2, external_id = $3, updated_at = $4, \
             version = $5 WHERE id = $6 AND version = $7",
        )
        .bind(&updated.display_name)
        .bind(name_key(&updated.display_name))
        .bind(&updated.external_id)
        .bind(now)
        .bind(updated.version)
        .bind(&group.id)
        .bind(group.version)
        .execute(&mut *tx)
        .await
        .map_err(|e| group_conflict(e, &updated))?;
        if result.rows_affected() == 0 {
            drop(tx);
            let still_there = self.get_group(&group.id).await?.is_some();
            return Err(StoreError::stale_or_missing("group", &group.id, still_there));
        }
        if let Some(old_key) = old_key {
            rename_principal(&mut tx, PrincipalKind::Group, &old_key, &updated.display_name).await?;
        }
        if let Some(members) = members {
            sqlx::query("DELETE FROM memberships WHERE group_id = $1")
                .bind(&group.id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::backend)?;
            write_members(&mut tx, &group.id, members).await?;
        }
        // Dropping the transaction on an error above rolls it back.
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(updated)
    }

    async fn replace_members(&self, group_id: &str, user_ids: &[String]) -> Result<(), StoreError> {
        let group = self
            .get_group(group_id)
            .await?
            .ok_or_else(|| StoreError::NotFound { what: "group", key: group_id.to_string() })?;
        self.save_group(&group, Some(user_ids), group.updated_at).await.map(|_| ())
    }

    async fn delete_group(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(key) = current_key(&mut tx, "groups", "display_name_key", id).await? else {
            return Err(StoreError::NotFound { what: "group", key: id.to_string() });
        };
        forget_principal(&mut tx, PrincipalKind::Group, &key).await?;
        sqlx::query("DELETE FROM groups WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(StoreError::backend)?;
        Ok(())
    }

    async fn add_member(&self, group_id: &str, user_id: &str) -> Result<(), StoreError> {
        // Check both ends for a clear error; the foreign keys still guard the race.
        if self.get_group(group_id).await?.is_none() {
            return Err(StoreError::NotFound { what: "group", key: group_id.to_string() });
        }
        if self.get_user(user_id).await?.is_none() {
            return Err(StoreError::NotFound { what: "user", key: user_id.to_string() });
        }
        sqlx::query("INSERT INTO memberships (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(group_id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn remove_member(&self, group_id: &str, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM memberships WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn members(&self, group_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT user_id FROM memberships WHERE group_id = $1 ORDER BY user_id")
            .bind(group_id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        rows.iter().map(|r| r.try_get::<String, _>("user_id").map_err(StoreError::backend)).collect()
    }

    async fn groups_of(&self, user_id: &str) -> Result<Vec<Group>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.id, g.display_name, g.external_id, g.created_at, g.updated_at, g.version \
             FROM groups g JOIN memberships m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.display_name_key",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(group_from_row).collect()
    }

    async fn group_names_by_user(&self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id, g.display_name FROM memberships m JOIN groups g ON g.id = m.group_id \
             ORDER BY g.display_name_key",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        rows.iter().map(|row| Ok((row.text("user_id")?, row.text("display_name")?))).collect()
    }
}
