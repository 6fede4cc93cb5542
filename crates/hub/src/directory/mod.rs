//! The directory service: every change to users, groups and memberships — from the admin API,
//! SCIM, the console, the configuration file and just-in-time sign-in — goes through
//! [`Directory`], which hashes passwords off the async workers, writes, audits (success and
//! failure, with one vocabulary of actions whichever door the change came through: the actor
//! says which) and wakes outbound provisioning. Signing in to the built-in directory
//! ([`login`]), its passwords ([`password`]) and second factors ([`totp`]), and the directory's
//! records in their SCIM representation ([`scim`]) live beside it.

pub mod login;
pub mod password;
pub mod scim;
pub mod totp;

use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_store::{Group, GroupStore, NewUser, Outcome, Store, StoreError, User, UserStore};
use thiserror::Error;
use tokio::sync::Notify;

use crate::apps::mapping::UserValues;
use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use password::PasswordError;

/// Actions recorded in the audit log for directory changes.
pub mod actions {
    pub const USER_CREATE: &str = "user.create";
    pub const USER_UPDATE: &str = "user.update";
    pub const USER_DELETE: &str = "user.delete";
    pub const GROUP_CREATE: &str = "group.create";
    pub const GROUP_UPDATE: &str = "group.update";
    pub const GROUP_DELETE: &str = "group.delete";
    pub const GROUP_MEMBERS: &str = "group.members";
}

#[derive(Debug, Error)]
pub enum DirectoryError {
    #[error("password: {0}")]
    Password(#[from] PasswordError),
    #[error("no user {0:?}")]
    NoSuchUser(String),
    #[error("no group {0:?}")]
    NoSuchGroup(String),
    #[error(
        "user {user:?}: e-mail address {email:?} is already an address of user {holder:?}; an address belongs to one user only, so applications that receive it cannot mistake one person for the other: give {user:?} another address, or remove it from {holder:?} first"
    )]
    EmailTaken { user: String, email: String, holder: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the change was stored but its audit record could not be ({0}); it is not acknowledged: check the directory before retrying"
    )]
    Unrecorded(AuditError),
}

/// Users, groups and memberships, changed in one place.
#[derive(Debug, Clone)]
pub struct Directory {
    store: Store,
    audit: Auditor,
    clock: Clock,
    /// Signalled on every change, so provisioning pushes it without waiting for its next pass.
    changed: Arc<Notify>,
}

impl Directory {
    pub fn new(store: Store, audit: Auditor, clock: Clock) -> Self {
        Directory { store, audit, clock, changed: Arc::new(Notify::new()) }
    }

    /// What is signalled after every change.
    pub fn changes(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    /// A user by ID or, failing that, by user name.
    pub async fn find_user(&self, key: &str) -> Result<User, DirectoryError> {
        if let Some(user) = self.store.get_user(key).await? {
            return Ok(user);
        }
        self.store.find_user_by_name(key).await?.ok_or_else(|| DirectoryError::NoSuchUser(key.to_string()))
    }

    /// A group by ID or, failing that, by name.
    pub async fn find_group(&self, key: &str) -> Result<Group, DirectoryError> {
        if let Some(group) = self.store.get_group(key).await? {
            return Ok(group);
        }
        self.store.find_group_by_name(key).await?.ok_or_else(|| DirectoryError::NoSuchGroup(key.to_string()))
    }

    /// The names of the groups `user` belongs to.
    pub async fn group_names(&self, user: &User) -> Result<Vec<String>, StoreError> {
        Ok(self.store.groups_of(&user.id).await?.into_iter().map(|g| g.display_name).collect())
    }

    /// What attribute mappings see of `user`: its fields and group names.
    pub async fn user_values(&self, user: &User) -> Result<UserValues, StoreError> {
        self.user_values_with(user, true).await
    }

    /// [`Directory::user_values`], leaving the groups out (empty) unless `with_groups`.
    pub async fn user_values_with(&self, user: &User, with_groups: bool) -> Result<UserValues, StoreError> {
        let groups = if with_groups { self.group_names(user).await? } else { Vec::new() };
        Ok(UserValues::of(user, groups))
    }

    /// Creates a user with, when given, a password (hashed first: a refused password writes
    /// nothing), audited as `actor`.
    pub async fn create_user(
        &self,
        actor: &str,
        new: &NewUser,
        password: Option<&str>,
    ) -> Result<User, DirectoryError> {
        let created = async {
            let hash = hash(password).await?;
            let created = self.store.create_user_with_password(new, hash.as_deref(), self.clock.unix()).await;
            self.naming_holder(created, &new.user_name).await
        }
        .await;
        self.audited(actor, actions::USER_CREATE, &new.user_name, created, |u| (u.user_name.clone(), u.id.clone()))
            .await
    }

    /// Saves `user` (a rename too: assignments follow the new name) and, when given, a new
    /// password, if `user.version` is still the stored one; audited as `actor`.
    pub async fn update_user(&self, actor: &str, user: &User, password: Option<&str>) -> Result<User, DirectoryError> {
        let updated = async {
            let hash = hash(password).await?;
            let updated = self.store.update_user_with_password(user, hash.as_deref(), self.clock.unix()).await;
            self.naming_holder(updated, &user.user_name).await
        }
        .await;
        self.audited(actor, actions::USER_UPDATE, &user.user_name, updated, |u| (u.user_name.clone(), u.id.clone()))
            .await
    }

    /// A write refused because another user has one of the addresses, as
    /// [`DirectoryError::EmailTaken`] naming that user (found by the address); other outcomes
    /// as they are.
    async fn naming_holder(&self, written: Result<User, StoreError>, user: &str) -> Result<User, DirectoryError> {
        match written {
            Err(StoreError::Conflict { what: "user", field, value }) if field == "email" => {
                match self.store.find_user_by_email(&value).await {
                    Ok(Some(holder)) => Err(DirectoryError::EmailTaken {
                        user: user.to_string(),
                        email: value,
                        holder: holder.user_name,
                    }),
                    _ => Err(StoreError::Conflict { what: "user", field, value }.into()),
                }
            }
            other => Ok(other?),
        }
    }

    pub async fn delete_user(&self, actor: &str, user: &User) -> Result<(), DirectoryError> {
        let deleted = self.store.delete_user(&user.id).await.map_err(DirectoryError::from);
        self.audited(actor, actions::USER_DELETE, &user.user_name, deleted, |()| {
            (user.user_name.clone(), user.id.clone())
        })
        .await
    }

    /// Creates a group with its members (user IDs) in one transaction: an unknown member leaves
    /// nothing.
    pub async fn create_group(
        &self,
        actor: &str,
        display_name: &str,
        external_id: Option<&str>,
        member_ids: &[String],
    ) -> Result<Group, DirectoryError> {
        let created = self
            .store
            .create_group_with_members(display_name, external_id, member_ids, self.clock.unix())
            .await
            .map_err(DirectoryError::from);
        let detail = format!("{} members", member_ids.len());
        self.audited(actor, actions::GROUP_CREATE, display_name, created, |g| (g.display_name.clone(), detail)).await
    }

    /// Gives `group` the name and externalId of `wanted` and exactly the members `member_ids`,
    /// in one transaction (the version moves), writing only when something differs.
    pub async fn save_group(
        &self,
        actor: &str,
        group: &Group,
        wanted: &Group,
        member_ids: &[String],
    ) -> Result<Group, DirectoryError> {
        let saved = async {
            let mut current = self.store.members(&group.id).await?;
            let mut target = member_ids.to_vec();
            current.sort();
            target.sort();
            let same_name = wanted.display_name == group.display_name && wanted.external_id == group.external_id;
            if same_name && current == target {
                return Ok(group.clone());
            }
            let members = (current != target).then_some(member_ids);
            let renamed = Group {
                display_name: wanted.display_name.clone(),
                external_id: wanted.external_id.clone(),
                ..group.clone()
            };
            Ok(self.store.save_group(&renamed, members, self.clock.unix()).await?)
        }
        .await;
        let detail = format!("{} members", member_ids.len());
        self.audited(actor, actions::GROUP_UPDATE, &group.display_name, saved, |g| (g.display_name.clone(), detail))
            .await
    }

    pub async fn delete_group(&self, actor: &str, group: &Group) -> Result<(), DirectoryError> {
        let deleted = self.store.delete_group(&group.id).await.map_err(DirectoryError::from);
        let target = group.display_name.clone();
        self.audited(actor, actions::GROUP_DELETE, &group.display_name, deleted, |()| (target, group.id.clone())).await
    }

    /// Adds `user` to `group` (`add`) or removes them.
    pub async fn change_membership(
        &self,
        actor: &str,
        group: &Group,
        user: &User,
        add: bool,
    ) -> Result<(), DirectoryError> {
        let changed = if add {
            self.store.add_member(&group.id, &user.id).await
        } else {
            self.store.remove_member(&group.id, &user.id).await
        }
        .map_err(DirectoryError::from);
        let detail = format!("{} {}", if add { "added" } else { "removed" }, user.user_name);
        self.audited(actor, actions::GROUP_MEMBERS, &group.display_name, changed, |()| {
            (group.display_name.clone(), detail)
        })
        .await
    }

    /// Audits the outcome of a change to `target` (success: the target and detail `shown` gives;
    /// failure: the error) and, after a success, wakes provisioning. A change whose record could
    /// not be stored is not acknowledged: the caller gets [`DirectoryError::Unrecorded`].
    async fn audited<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        result: Result<T, DirectoryError>,
        shown: impl FnOnce(&T) -> (String, String),
    ) -> Result<T, DirectoryError> {
        match result {
            Ok(value) => {
                let (target, detail) = shown(&value);
                // Provisioning follows the directory, recorded or not: the change is there.
                let recorded = self.audit.record(actor, action, Some(&target), Outcome::Success, detail).await;
                self.changed.notify_waiters();
                recorded.map_err(DirectoryError::Unrecorded)?;
                Ok(value)
            }
            Err(e) => {
                self.audit.note(actor, action, Some(target), Outcome::Failure, e.to_string()).await;
                Err(e)
            }
        }
    }
}

/// The hash of a new password, computed on the hashing threads; `None` without one.
async fn hash(password: Option<&str>) -> Result<Option<String>, DirectoryError> {
    match password {
        Some(p) => Ok(Some(password::hash_off_runtime(p).await?)),
        None => Ok(None),
    }
}
