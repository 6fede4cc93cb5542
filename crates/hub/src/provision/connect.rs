//! The Amazon Connect connector: every active user assigned to a Connect application gets a
//! Connect user named as the assertion's RoleSessionName will name them (Connect finds the
//! agent by that name at federation), with the application's security and routing profiles.
//! Connect has no disabled state, so a user who leaves the application or is deactivated has
//! their Connect user deleted, and is created again when they come back. Only Connect users
//! this connector created or adopted are ever deleted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use crossfed_store::{ProvisioningRecord, ProvisioningStore, StoreError, SyncState, User, UserStore};

use super::context::{Context, Recorder, all_users, with_retries};
use crate::apps::catalog::Assignees;
use crate::apps::mapping::MappingError;
use crate::apps::model::ROLE_SESSION_NAME_ATTRIBUTE;
use crate::aws::connect::{ConnectClient, ConnectEndpoint, ConnectError, ConnectUserSummary, NewConnectUser};

#[derive(Debug)]
pub struct ConnectSync {
    pub app_id: String,
    pub instance_id: String,
    pub client: ConnectClient,
    /// Security profile names given to new users.
    pub security_profiles: Vec<String>,
    /// Routing profile name given to new users.
    pub routing_profile: String,
}

/// What passes of this process confirmed each Connect user holds: the identity given to it
/// (a digest of username, names, e-mail) and the provisioning record stored with it. A pass that
/// is not full (one started by a directory change) trusts a confirmation while the user's
/// identity and the stored record are both unchanged, and does not describe that user again:
/// Connect allows 2 calls a second by default, so describing every user at every change would
/// take N/2 seconds per change. The stored record is shared by the hub instances: when another
/// instance's pass changed the user, its record differs and the user is described again. Full
/// passes describe everyone. Kept in memory: after a restart the first pass describes everyone.
#[derive(Debug, Default)]
pub struct Confirmations {
    confirmed: Mutex<HashMap<(String, String), (ProvisioningRecord, String)>>,
}

impl Confirmations {
    fn holds(&self, stored: &ProvisioningRecord, identity: &str) -> bool {
        self.confirmed.lock().is_ok_and(|c| {
            c.get(&(stored.connector.clone(), stored.subject_id.clone()))
                .is_some_and(|(record, digest)| record == stored && digest == identity)
        })
    }

    fn confirm(&self, stored: ProvisioningRecord, identity: String) {
        if let Ok(mut c) = self.confirmed.lock() {
            c.insert((stored.connector.clone(), stored.subject_id.clone()), (stored, identity));
        }
    }
}

/// A user who should have a Connect user, as the directory says.
struct Wanted {
    user: User,
    username: String,
    /// A digest of the username and identity, to recognise an unchanged user.
    identity_digest: String,
}

impl Wanted {
    fn new(user: User, username: String) -> Wanted {
        let text = serde_json::json!([username, connect_identity(&user)]).to_string();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
        Wanted { user, username, identity_digest: crossfed_random::to_hex(digest.as_ref()) }
    }
}

/// What a user's Connect user should show: given name (or display name), family name, e-mail.
fn connect_identity(user: &User) -> (Option<&str>, Option<&str>, Option<&str>) {
    let first = user.given_name.as_deref().or(user.display_name.as_deref());
    (first, user.family_name.as_deref(), user.email())
}

fn retryable(e: &ConnectError) -> bool {
    e.is_retryable()
}

/// One connector per Connect application with provisioning, from the current catalog (so an
/// application added through the admin API takes part in the next pass). An application whose
/// client cannot be made is logged and skipped.
pub(crate) async fn connectors(context: &Context) -> Vec<ConnectSync> {
    let catalog = context.catalog().await;
    let mut connectors = Vec::new();
    for (id, entry) in &catalog.entries {
        let Some(connect) = &entry.spec.amazon_connect else { continue };
        let Some(provisioning) = &connect.provisioning else { continue };
        let base_url =
            provisioning.api_url.clone().unwrap_or_else(|| format!("https://connect.{}.amazonaws.com", connect.region));
        let endpoint = ConnectEndpoint {
            base_url,
            region: connect.region.clone(),
            access_key_id: provisioning.access_key_id.clone(),
            secret_access_key: provisioning.secret_access_key.clone(),
        };
        let client = ConnectClient::new(endpoint, context.clock.clone());
        match client {
            Ok(client) => connectors.push(ConnectSync {
                app_id: id.clone(),
                instance_id: connect.instance_id.clone(),
                client,
                security_profiles: provisioning.security_profiles.clone(),
                routing_profile: provisioning.routing_profile.clone(),
            }),
            Err(e) => tracing::warn!("application {id}: provisioning: {e}"),
        }
    }
    connectors
}

impl ConnectSync {
    pub fn connector_name(&self) -> String {
        format!("connect:{}", self.app_id)
    }

    /// The Connect username of `user`: the RoleSessionName the application's mapping gives.
    async fn username(&self, context: &Context, user: &User) -> Result<String, WantedError> {
        let catalog = context.catalog().await;
        let Some(app) = catalog.get(&self.app_id).map(|e| &e.app) else {
            return Err(WantedError::NotConfigured(self.app_id.clone()));
        };
        let values = context.directory.user_values(user).await?;
        let (_, attributes) = app.assertion_contents(&values)?;
        attributes
            .into_iter()
            .find(|a| a.name == ROLE_SESSION_NAME_ATTRIBUTE)
            .and_then(|a| a.values.into_iter().next())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| WantedError::NoSessionName { app: self.app_id.clone(), user: user.user_name.clone() })
    }

    /// Whether `user` is active and assigned to the application, directly or through a group.
    async fn assigned(&self, context: &Context, assignees: &Assignees, user: &User) -> Result<bool, WantedError> {
        if !user.active {
            return Ok(false);
        }
        let groups = context.directory.group_names(user).await?;
        Ok(assignees.includes(&user.user_name, &groups))
    }

    /// Whether the user with this ID should still have a Connect user; a failed read counts as
    /// yes, so nothing is deleted on doubt.
    async fn still_wanted(&self, context: &Context, user_id: &str) -> bool {
        let catalog = context.catalog().await;
        let Some(assignees) = catalog.get(&self.app_id).map(|e| &e.assignees) else { return false };
        match context.store.get_user(user_id).await {
            Ok(Some(user)) => self.assigned(context, assignees, &user).await.unwrap_or(true),
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Who should have a Connect user, and the users whose name could not be computed.
    async fn wanted(&self, context: &Context) -> Result<(Vec<Wanted>, Vec<(User, String)>), WantedError> {
        let catalog = context.catalog().await;
        let Some(assignees) = catalog.get(&self.app_id).map(|e| &e.assignees) else {
            return Err(WantedError::NotConfigured(self.app_id.clone()));
        };
        let mut wanted = Vec::new();
        let mut broken = Vec::new();
        for user in all_users(&context.store).await? {
            if !self.assigned(context, assignees, &user).await? {
                continue;
            }
            match self.username(context, &user).await {
                Ok(username) => wanted.push(Wanted::new(user, username)),
                Err(e) => broken.push((user, format!("cannot name the Connect user: {e}"))),
            }
        }
        Ok((wanted, broken))
    }

    /// One reconcile pass; `full` describes every existing Connect user, where other passes
    /// trust what an earlier pass confirmed. Returns when the next retry is due, if anything
    /// failed.
    pub async fn run(&self, context: &Context, confirmations: &Confirmations, full: bool) -> Option<i64> {
        let recorder = Recorder { context, connector: self.connector_name() };
        let now = || context.now();
        let mut next_retry: Option<i64> = None;
        let mut note = |at: i64| next_retry = Some(next_retry.map_or(at, |n: i64| n.min(at)));
        let (wanted, broken) = match self.wanted(context).await {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!("provisioning {}: reading the directory: {e}", recorder.connector);
                return Some(now() + context.schedule.retry_base_seconds.max(1));
            }
        };
        for (user, reason) in &broken {
            let previous = recorder.previous(&user.id).await;
            note(recorder.failed(previous.as_ref(), &user.id, &user.user_name, reason).await);
        }
        // What the instance holds, and the profiles to give: without them nothing can proceed,
        // and every wanted user is marked with the reason.
        let remote = async {
            let security = with_retries(retryable, || {
                self.client.security_profile_ids(&self.instance_id, &self.security_profiles)
            })
            .await?;
            let routing =
                with_retries(retryable, || self.client.routing_profile_id(&self.instance_id, &self.routing_profile))
                    .await?;
            let users = with_retries(retryable, || self.client.list_users(&self.instance_id)).await?;
            Ok::<_, ConnectError>((security, routing, users))
        }
        .await;
        let (security, routing, remote_users) = match remote {
            Ok(found) => found,
            Err(e) => {
                for w in &wanted {
                    let previous = recorder.previous(&w.user.id).await;
                    if previous.as_ref().is_some_and(|r| r.state == SyncState::InSync) {
                        // Known good; an unreachable service changes nothing about it.
                        continue;
                    }
                    note(recorder.failed(previous.as_ref(), &w.user.id, &w.username, &e.to_string()).await);
                }
                return next_retry.or(Some(now() + context.schedule.retry_base_seconds.max(1)));
            }
        };
        let mut by_name: BTreeMap<String, ConnectUserSummary> =
            remote_users.into_iter().map(|u| (u.username.to_lowercase(), u)).collect();
        let mut kept = BTreeSet::new();
        let mut kept_remote = BTreeSet::new();
        for w in &wanted {
            kept.insert(w.user.id.clone());
            let previous = recorder.previous(&w.user.id).await;
            if let Some(id) = previous.as_ref().and_then(|r| r.remote_id.clone()) {
                kept_remote.insert(id);
            }
            if Recorder::waiting(previous.as_ref(), now()) {
                note(previous.as_ref().map_or(0, |r| r.next_attempt_at));
                continue;
            }
            let trusted = (!full).then_some(confirmations);
            match self.converge(w, previous.as_ref(), &mut by_name, &security, &routing, trusted).await {
                Ok(Converged { remote_id, action, identity_checked }) => {
                    kept_remote.insert(remote_id.clone());
                    let stored = recorder.in_sync(&w.user.id, &w.username, &remote_id, action).await;
                    if let Some(stored) = stored.filter(|_| identity_checked) {
                        confirmations.confirm(stored, w.identity_digest.clone());
                    }
                }
                Err(e) => note(recorder.failed(previous.as_ref(), &w.user.id, &w.username, &e.to_string()).await),
            }
        }
        // Users no longer wanted: delete what this connector created.
        let records = match context.store.list_provisioning(Some(&recorder.connector)).await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!("provisioning {}: reading its records: {e}", recorder.connector);
                return next_retry;
            }
        };
        for record in records {
            if kept.contains(&record.subject_id) || record.state == SyncState::Removed {
                continue;
            }
            if broken.iter().any(|(u, _)| u.id == record.subject_id) {
                continue;
            }
            if Recorder::waiting(Some(&record), now()) {
                note(record.next_attempt_at);
                continue;
            }
            // Only what this connector recorded creating or adopting is deleted — never a
            // Connect user found by name alone, nor one a kept user holds.
            let Some(remote_id) = record.remote_id.clone().filter(|id| !kept_remote.contains(id)) else {
                recorder.removed(&record.subject_id, &record.subject_name, false).await;
                continue;
            };
            // The directory is read page by page; a user missed by a concurrent change is
            // looked at once more before anything is deleted.
            if self.still_wanted(context, &record.subject_id).await {
                continue;
            }
            match with_retries(retryable, || self.client.delete_user(&self.instance_id, &remote_id)).await {
                Ok(()) => recorder.removed(&record.subject_id, &record.subject_name, true).await,
                Err(e) if e.code() == Some("ResourceNotFoundException") => {
                    recorder.removed(&record.subject_id, &record.subject_name, false).await;
                }
                Err(e) => {
                    note(
                        recorder.failed(Some(&record), &record.subject_id, &record.subject_name, &e.to_string()).await,
                    );
                }
            }
        }
        next_retry
    }

    /// Makes the instance hold `w` as wanted, trusting `trusted` confirmations when given.
    async fn converge(
        &self,
        w: &Wanted,
        previous: Option<&crossfed_store::ProvisioningRecord>,
        by_name: &mut BTreeMap<String, ConnectUserSummary>,
        security: &[String],
        routing: &str,
        trusted: Option<&Confirmations>,
    ) -> Result<Converged, ConnectError> {
        let key = w.username.to_lowercase();
        // A new username (the e-mail changed): Connect cannot rename, so the old user goes.
        let mut renamed = false;
        if let Some(old) = previous.filter(|r| r.state != SyncState::Removed && r.subject_name.to_lowercase() != key)
            && let Some(old_id) = &old.remote_id
        {
            match with_retries(retryable, || self.client.delete_user(&self.instance_id, old_id)).await {
                Ok(()) => renamed = true,
                Err(e) if e.code() == Some("ResourceNotFoundException") => renamed = true,
                Err(e) => return Err(e),
            }
            by_name.remove(&old.subject_name.to_lowercase());
        }
        let (first, last, email) = connect_identity(&w.user);
        let Some(existing) = by_name.get(&key).cloned() else {
            let new = NewConnectUser {
                username: &w.username,
                first_name: first,
                last_name: last,
                email,
                security_profile_ids: security,
                routing_profile_id: routing,
            };
            let (id, action, identity_checked) =
                match with_retries(retryable, || self.client.create_user(&self.instance_id, &new)).await {
                    Ok(id) => (id, if renamed { "rename" } else { "create" }, true),
                    // Created meanwhile (by another hub instance, or by hand): adopt it; its names
                    // are looked at by the next pass.
                    Err(e) if e.code() == Some("DuplicateResourceException") => {
                        let users = with_retries(retryable, || self.client.list_users(&self.instance_id)).await?;
                        let id = users.into_iter().find(|u| u.username.to_lowercase() == key).map(|u| u.id).ok_or(e)?;
                        (id, "adopt", false)
                    }
                    Err(e) => return Err(e),
                };
            by_name
                .insert(key, ConnectUserSummary { id: id.clone(), arn: String::new(), username: w.username.clone() });
            return Ok(Converged { remote_id: id, action: Some(action), identity_checked });
        };
        // It exists: bring names and e-mail in step (profiles are set at creation and then left
        // to Connect administrators), unless a pass confirmed it as it is now.
        let adopted = previous.and_then(|r| r.remote_id.as_deref()) != Some(existing.id.as_str());
        if let (Some(previous), Some(trusted)) = (previous, trusted)
            && !adopted
            && previous.state == SyncState::InSync
            && trusted.holds(previous, &w.identity_digest)
        {
            return Ok(Converged { remote_id: existing.id, action: None, identity_checked: true });
        }
        let details = with_retries(retryable, || self.client.describe_user(&self.instance_id, &existing.id)).await?;
        let differs = details.first_name.as_deref() != first
            || details.last_name.as_deref() != last
            || details.email.as_deref() != email;
        if differs {
            with_retries(retryable, || {
                self.client.update_identity_info(&self.instance_id, &existing.id, first, last, email)
            })
            .await?;
        }
        let action = match (differs, adopted) {
            (_, true) => Some("adopt"),
            (true, false) => Some("update"),
            (false, false) => None,
        };
        Ok(Converged { remote_id: existing.id, action, identity_checked: true })
    }
}

/// Why who should have a Connect user, or by what name, could not be worked out.
#[derive(Debug, thiserror::Error)]
enum WantedError {
    #[error("application {0} is not configured")]
    NotConfigured(String),
    #[error("application {app} gives {user} no RoleSessionName")]
    NoSessionName { app: String, user: String },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What [`ConnectSync::converge`] did.
struct Converged {
    /// The Connect user's ID.
    remote_id: String,
    /// What was done, if anything.
    action: Option<&'static str>,
    /// Whether the Connect user is known to hold the wanted identity: created with it, or
    /// described (and updated) by this pass, or confirmed unchanged.
    identity_checked: bool,
}
