//! E-mail addresses are one user's. Each user's addresses are kept by key
//! ([`PrincipalName::key_of`], so `Alice@Example.com` and `alice@example.com` are one address) in
//! `user_emails`, written in the transaction that writes the user: a second user with an address
//! of the first is refused whichever door the write came through, and a refused write leaves no
//! row behind. Also here: indexing the addresses of users stored before the index existed (when
//! a store opens), and the values several users still share from before, for the console to list.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::database::Store;
use crate::error::StoreError;
use crate::names::PrincipalName;

/// The key of an address: the name key of the address without surrounding white space; `None`
/// for a blank one, which is no address.
pub fn email_key(value: &str) -> Option<String> {
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| PrincipalName::key_of(trimmed))
}

/// The distinct keys of `values`, each with the first spelling it came in: one user may list an
/// address twice (as work and home), which is still one address.
fn keyed<'a>(values: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, &'a str> {
    let mut keys = BTreeMap::new();
    for value in values {
        if let Some(key) = email_key(value) {
            keys.entry(key).or_insert(value);
        }
    }
    keys
}

fn taken(value: &str) -> StoreError {
    StoreError::Conflict { what: "user", field: "email".to_string(), value: value.to_string() }
}

/// Makes `values` the indexed addresses of user `user_id`, inside the transaction that writes
/// the user. An address another user holds is a [`StoreError::Conflict`] on `email`; the caller
/// then drops its transaction, so nothing of the write is kept.
pub(crate) async fn write_email_keys(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
    values: &[&str],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM user_emails WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
    for (key, spelled) in keyed(values.iter().copied()) {
        // Asked first for a clear answer; the primary key still decides a race between two
        // instances on one PostgreSQL database.
        let holder = sqlx::query("SELECT user_id FROM user_emails WHERE email_key = $1")
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        if holder.is_some() {
            return Err(taken(spelled));
        }
        sqlx::query("INSERT INTO user_emails (email_key, user_id) VALUES ($1, $2)")
            .bind(&key)
            .bind(user_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_unique_violation() => taken(spelled),
                _ => StoreError::backend(e),
            })?;
    }
    Ok(())
}

/// An address as the stored `emails` JSON holds it (the other fields do not matter here).
#[derive(Deserialize)]
struct Address {
    value: String,
}

/// A user as this module reads it: in creation order, with the keys of its addresses.
struct Holder {
    id: String,
    user_name: String,
    user_name_key: String,
    version: i64,
    addresses: Vec<String>,
}

async fn holders(store: &Store) -> Result<Vec<Holder>, StoreError> {
    let rows = sqlx::query("SELECT id, user_name, user_name_key, emails, version FROM users ORDER BY created_at, id")
        .fetch_all(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    let text = |row: &sqlx::any::AnyRow, column: &str| row.try_get::<String, _>(column).map_err(StoreError::backend);
    rows.iter()
        .map(|row| {
            let addresses: Vec<Address> = serde_json::from_str(&text(row, "emails")?)
                .map_err(|e| StoreError::Backend(format!("stored emails are not valid JSON: {e}")))?;
            Ok(Holder {
                id: text(row, "id")?,
                user_name: text(row, "user_name")?,
                user_name_key: text(row, "user_name_key")?,
                version: row.try_get("version").map_err(StoreError::backend)?,
                addresses: addresses.into_iter().map(|a| a.value).collect(),
            })
        })
        .collect()
}

/// The indexed addresses: key → user ID.
async fn indexed(store: &Store) -> Result<BTreeMap<String, String>, StoreError> {
    let rows = sqlx::query("SELECT email_key, user_id FROM user_emails")
        .fetch_all(&store.pool)
        .await
        .map_err(StoreError::backend)?;
    rows.iter()
        .map(|row| {
            let key: String = row.try_get("email_key").map_err(StoreError::backend)?;
            let user: String = row.try_get("user_id").map_err(StoreError::backend)?;
            Ok((key, user))
        })
        .collect()
}

/// What bringing the index up to date takes: rows to remove (key, user, version) and rows to
/// add (key, user, version).
#[derive(Default)]
struct IndexChanges {
    stale: Vec<(String, String, i64)>,
    missing: Vec<(String, String, i64)>,
}

fn index_changes(users: &[Holder], mut indexed: BTreeMap<String, String>) -> IndexChanges {
    let mut changes = IndexChanges::default();
    let wanted: BTreeMap<&str, BTreeSet<String>> = users
        .iter()
        .map(|u| (u.id.as_str(), keyed(u.addresses.iter().map(String::as_str)).into_keys().collect()))
        .collect();
    let versions: BTreeMap<&str, i64> = users.iter().map(|u| (u.id.as_str(), u.version)).collect();
    indexed.retain(|key, user| {
        let kept = wanted.get(user.as_str()).is_some_and(|keys| keys.contains(key));
        if !kept {
            let version = versions.get(user.as_str()).copied().unwrap_or(0);
            changes.stale.push((key.clone(), user.clone(), version));
        }
        kept
    });
    for user in users {
        for key in wanted.get(user.id.as_str()).into_iter().flatten() {
            if !indexed.contains_key(key) {
                indexed.insert(key.clone(), user.id.clone());
                changes.missing.push((key.clone(), user.id.clone(), user.version));
            }
        }
    }
    changes
}

/// Indexes the addresses of users stored before the index existed (or under an older key), in
/// the order the users were created (within one second, by ID): an address already indexed for
/// a user stays that user's,
/// and a later user sharing it is left out (the console lists it, and launches that would send
/// it for that user are refused). Rows of an address its user no longer has are removed. A
/// user changed meanwhile (by another instance) is left as its own write indexed it.
pub(crate) async fn index_email_addresses(store: &Store) -> Result<(), StoreError> {
    let users = holders(store).await?;
    let changes = index_changes(&users, indexed(store).await?);
    if changes.stale.is_empty() && changes.missing.is_empty() {
        return Ok(());
    }
    let unchanged = "EXISTS (SELECT 1 FROM users WHERE id = $2 AND version = $3)";
    let mut tx = store.begin_write().await?;
    for (key, user, version) in &changes.stale {
        sqlx::query(&format!("DELETE FROM user_emails WHERE email_key = $1 AND user_id = $2 AND {unchanged}"))
            .bind(key)
            .bind(user)
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
    }
    for (key, user, version) in &changes.missing {
        sqlx::query(&format!(
            "INSERT INTO user_emails (email_key, user_id) SELECT $1, $2 WHERE {unchanged} ON CONFLICT DO NOTHING"
        ))
        .bind(key)
        .bind(user)
        .bind(version)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::backend)?;
    }
    tx.commit().await.map_err(StoreError::backend)
}

/// A value several users share under one key: an e-mail address, or a user name (two names
/// that were told apart before names were normalized). Left from before the directory refused
/// such writes; each is to be resolved by changing all but one of the users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedValue {
    /// `email` or `userName`.
    pub field: &'static str,
    /// The value as the first of the users spells it.
    pub value: String,
    /// The user the store gives the value to (the address's indexed user, the name's owner in
    /// the unique index), if one of them.
    pub holder: Option<String>,
    /// Every user with the value, by name, in the order they were created.
    pub users: Vec<String>,
}

impl Store {
    /// The e-mail addresses and user names several users share (see [`SharedValue`]): one read
    /// of every user, for an administrator's page, not for every request.
    pub async fn shared_values(&self) -> Result<Vec<SharedValue>, StoreError> {
        let users = holders(self).await?;
        let index = indexed(self).await?;
        let by_id: BTreeMap<&str, &str> = users.iter().map(|u| (u.id.as_str(), u.user_name.as_str())).collect();
        let mut emails: BTreeMap<String, (String, Vec<&Holder>)> = BTreeMap::new();
        let mut names: BTreeMap<String, (String, Vec<&Holder>)> = BTreeMap::new();
        for user in &users {
            for (key, spelled) in keyed(user.addresses.iter().map(String::as_str)) {
                emails.entry(key).or_insert_with(|| (spelled.to_string(), Vec::new())).1.push(user);
            }
            let key = PrincipalName::key_of(&user.user_name);
            names.entry(key).or_insert_with(|| (user.user_name.clone(), Vec::new())).1.push(user);
        }
        let mut shared = Vec::new();
        for (key, (value, holders)) in emails.into_iter().filter(|(_, (_, h))| h.len() > 1) {
            let holder = index.get(&key).and_then(|id| by_id.get(id.as_str())).map(|n| n.to_string());
            let users = holders.iter().map(|h| h.user_name.clone()).collect();
            shared.push(SharedValue { field: "email", value, holder, users });
        }
        for (key, (value, holders)) in names.into_iter().filter(|(_, (_, h))| h.len() > 1) {
            let holder = holders.iter().find(|h| h.user_name_key == key).map(|h| h.user_name.clone());
            let users = holders.iter().map(|h| h.user_name.clone()).collect();
            shared.push(SharedValue { field: "userName", value, holder, users });
        }
        Ok(shared)
    }
}
