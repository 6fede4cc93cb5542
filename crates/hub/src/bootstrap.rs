//! Starting a hub from its configuration: the store, the signing key, the bootstrap users and
//! the applications, then every service of the [`Hub`]. Idempotent: existing users keep their
//! passwords, and the file's users and assignments are found again after renames made elsewhere.

use std::path::Path;
use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_store::{
    ConfigUserStore, CredentialStore, Email, NewUser, PrincipalName, Store, StoreError, ThrottlePolicy, User,
    UserStore, email_key,
};
use thiserror::Error;

use crate::apps::catalog::{ApplyError, Catalog, CatalogCache, apply_config};
use crate::apps::mapping::{Template, TemplateError};
use crate::audit::Auditor;
use crate::audit_queue::{AuditError, AuditQueue};
use crate::check::Parties;
use crate::config::{HubConfig, IdentitySourceEntry, TargetAccountError, UserEntry};
use crate::directory::{Directory, DirectoryError};
use crate::keys::{KeyError, Keys};
use crate::metadata_source::{FetchError, read_metadata};
use crate::metrics::Metrics;
use crate::provision::scim_push::{PushError, ScimPush};
use crate::provision::{Connector, Provisioning, Schedule};
use crate::refusals::Refusals;
use crate::secrets::SecretError;
use crate::sessions::Sessions;
use crate::state::Hub;
use crate::upstream::{IdentitySource, MetadataRefresh};

/// The actor of the changes the configuration file makes.
const ACTOR: &str = "config";

/// Why a hub could not start from its configuration; each names what to change.
#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("user {user}: {source}")]
    User { user: String, source: DirectoryError },
    #[error(
        "users {first:?} and {second:?} of the configuration file both have the e-mail address {email:?}; an address belongs to one user only: give one of them another address"
    )]
    SameEmail { first: String, second: String, email: String },
    #[error("reading the users: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Applications(Box<ApplyError>),
    #[error("identity source metadata: {0}")]
    IdentitySource(crossfed_saml::MetadataError),
    #[error(transparent)]
    Metadata(#[from] FetchError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("{0} is {2}: give {1}")]
    Setting(&'static str, &'static str, i64),
    #[error("{whose}: the name is used twice; each target needs its own")]
    TargetTwice { whose: String },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    TargetAccount(#[from] TargetAccountError),
    #[error("{whose}: {what} {text:?}: {source}")]
    Template { whose: String, what: &'static str, text: String, source: TemplateError },
    #[error("{whose}: {source}")]
    Push { whose: String, source: PushError },
}

impl From<ApplyError> for StartError {
    fn from(e: ApplyError) -> Self {
        StartError::Applications(Box::new(e))
    }
}

/// Builds the hub `config` describes over `store`, its keys in `data_dir`, served at `base_url`
/// and judging time by `clock`. Returns the hub and what the start changed, for its log.
pub async fn build_hub(
    config: &HubConfig,
    store: Store,
    data_dir: &Path,
    base_url: &str,
    clock: Clock,
) -> Result<(Hub, Vec<String>), StartError> {
    let base_url = base_url.trim_end_matches('/').to_string();
    check_settings(config)?;
    let keys = Arc::new(Keys::load(data_dir, clock.clone())?);
    let metrics = Arc::new(Metrics::new());
    let queue = AuditQueue::start_timed(store.clone(), metrics.store_timer("audit_commit"))?;
    let audit = Auditor::new(queue, clock.clone());
    let directory = Directory::new(store.clone(), audit.clone(), clock.clone());
    let mut changes = bootstrap_users(config, &store, &directory).await?;
    changes.extend(apply_config(&store, &config.applications, clock.unix()).await?);
    let catalog = Catalog::load(&store).await?;
    let applications = Arc::new(CatalogCache::new(catalog));
    let identity_source = match &config.identity_source {
        Some(source) => Some(Arc::new(load_identity_source(source, &base_url).await?)),
        None => None,
    };
    let provisioning = Provisioning::new(
        store.clone(),
        applications.clone(),
        directory.clone(),
        audit.clone(),
        clock.clone(),
        connectors(config)?,
        Schedule {
            interval_seconds: config.provisioning.interval_seconds,
            retry_base_seconds: config.provisioning.retry_base_seconds,
        },
    );
    let sessions = Sessions::new(
        store.clone(),
        clock.clone(),
        audit.clone(),
        &base_url,
        config.hub.session_idle_minutes.unwrap_or(60) * 60,
        config.hub.session_max_hours.unwrap_or(12) * 3600,
    )
    .with_lookup_timer(metrics.store_timer("session_lookup"));
    let refusals = Refusals::new(audit.clone(), clock.clone());
    let hub = Hub {
        store,
        base_url,
        clock,
        sessions,
        keys,
        applications,
        directory,
        refusals,
        audit,
        throttle: ThrottlePolicy::default(),
        identity_source,
        provisioning: Arc::new(provisioning),
        check_parties: check_parties(config)?,
        metrics,
    };
    if let Some(metadata) = hub.idp_metadata() {
        match metadata.adopt_upload().await {
            Ok(true) => changes.push("trusting the identity source's uploaded metadata".to_string()),
            Ok(false) => {}
            Err(e) => tracing::warn!("the uploaded identity source metadata is not used: {e}"),
        }
    }
    Ok((hub, changes))
}

/// The configuration file's users: created when missing, given their password when they have
/// none yet (through the directory service, audited as `config`). A user the file made or found
/// at an earlier start stays the file's under whatever name it has now (see [`existing_user`]).
async fn bootstrap_users(config: &HubConfig, store: &Store, directory: &Directory) -> Result<Vec<String>, StartError> {
    check_user_emails(config, store).await?;
    let mut changes = Vec::new();
    for entry in &config.users {
        let failed = |source| StartError::User { user: entry.user_name.clone(), source };
        let user = match existing_user(store, entry).await? {
            Some((user, bound)) => {
                if !bound {
                    store.bind_config_user(&entry.user_name, &user.id).await?;
                }
                if !PrincipalName::same(&user.user_name, &entry.user_name) {
                    changes.push(format!(
                        "user {} of the configuration file was renamed {} since; kept as it is",
                        entry.user_name, user.user_name
                    ));
                }
                user
            }
            None => {
                let user = directory.create_user(ACTOR, &new_user(entry), None).await.map_err(failed)?;
                store.bind_config_user(&entry.user_name, &user.id).await?;
                changes.push(format!("created user {}", entry.user_name));
                user
            }
        };
        if let Some(password) = entry.password()?
            && store.credentials(&user.id).await?.password_hash.is_none()
        {
            directory.update_user(ACTOR, &user, Some(&password)).await.map_err(failed)?;
            changes.push(format!("set the password of {}", entry.user_name));
        }
    }
    Ok(changes)
}

/// The directory user a `[[users]]` entry is, and whether that is recorded already: the user the
/// file made or found at an earlier start, renamed since or not (a rename through SCIM, the API
/// or the console neither makes the file create a second user under the old name nor rename the
/// first one back); else the user of that name, made elsewhere first or by a version that did
/// not record it, which becomes the file's.
async fn existing_user(store: &Store, entry: &UserEntry) -> Result<Option<(User, bool)>, StoreError> {
    if let Some(user) = store.config_user(&entry.user_name).await? {
        return Ok(Some((user, true)));
    }
    Ok(store.find_user_by_name(&entry.user_name).await?.map(|user| (user, false)))
}

/// The user a `[[users]]` entry makes.
fn new_user(entry: &UserEntry) -> NewUser {
    NewUser {
        user_name: entry.user_name.clone(),
        emails: entry.email.iter().map(|e| Email::work(e)).collect(),
        given_name: entry.given_name.clone(),
        family_name: entry.family_name.clone(),
        display_name: entry.display_name.clone(),
        active: true,
        ..NewUser::default()
    }
}

/// Refuses configuration users that would share an e-mail address, with each other or with
/// another user of the directory, before any user is written.
async fn check_user_emails(config: &HubConfig, store: &Store) -> Result<(), StartError> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for entry in &config.users {
        let Some((email, key)) = entry.email.as_deref().and_then(|e| Some((e, email_key(e)?))) else { continue };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            let (first, second) = (first.to_string(), entry.user_name.clone());
            return Err(StartError::SameEmail { first, second, email: email.to_string() });
        }
        seen.push((key, &entry.user_name));
        if existing_user(store, entry).await?.is_some() {
            continue;
        }
        if let Some(holder) = store.find_user_by_email(email).await? {
            let user = entry.user_name.clone();
            let source =
                DirectoryError::EmailTaken { user: user.clone(), email: email.to_string(), holder: holder.user_name };
            return Err(StartError::User { user, source });
        }
    }
    Ok(())
}

/// Reads the upstream IdP's metadata from its file or URL.
async fn load_identity_source(entry: &IdentitySourceEntry, base_url: &str) -> Result<IdentitySource, StartError> {
    let idp = read_metadata(entry.metadata_file.as_deref(), entry.metadata_url.as_deref(), "identity source").await?;
    idp.require_idp().map_err(StartError::IdentitySource)?;
    let (sp_entity_id, acs_url) = crate::upstream::sp_endpoints(base_url);
    let mut source = IdentitySource::new(sp_entity_id, acs_url, idp, entry.provisioning, entry.allow_idp_initiated);
    if entry.refresh_minutes > 0 {
        source.refresh = Some(MetadataRefresh {
            file: entry.metadata_file.clone(),
            url: entry.metadata_url.clone(),
            every_seconds: entry.refresh_minutes.saturating_mul(60),
        });
    }
    Ok(source)
}

/// Where the console's chain checks find the target accounts and the upstream IdP's metadata.
pub(crate) fn check_parties(config: &HubConfig) -> Result<Option<Parties>, StartError> {
    let targets = config.target_accesses()?;
    if targets.is_empty() {
        return Ok(None);
    }
    Ok(Some(Parties {
        targets,
        idp_metadata_url: config.identity_source.as_ref().and_then(|s| s.metadata_url.clone()),
    }))
}

/// The settings with a range, each in it.
pub(crate) fn check_settings(config: &HubConfig) -> Result<(), StartError> {
    let interval = i64::try_from(config.provisioning.interval_seconds).unwrap_or(i64::MAX);
    let ranges = [
        ("provisioning.interval_seconds", "1 to 86400 seconds", 1..=86_400, Some(interval)),
        (
            "provisioning.retry_base_seconds",
            "1 to 3600 seconds",
            1..=3_600,
            Some(config.provisioning.retry_base_seconds),
        ),
        ("hub.session_idle_minutes", "1 to 10080 minutes (a week)", 1..=10_080, config.hub.session_idle_minutes),
        ("hub.session_max_hours", "1 to 720 hours (30 days)", 1..=720, config.hub.session_max_hours),
    ];
    for (name, wanted, range, value) in ranges {
        if let Some(value) = value
            && !range.contains(&value)
        {
            return Err(StartError::Setting(name, wanted, value));
        }
    }
    Ok(())
}

/// The provisioning connectors the configuration asks for.
pub(crate) fn connectors(config: &HubConfig) -> Result<Vec<Connector>, StartError> {
    let mut connectors = Vec::new();
    for (i, target) in config.provisioning.scim.iter().enumerate() {
        let whose = format!("provisioning target {}", target.name);
        if config.provisioning.scim.iter().take(i).any(|t| t.name == target.name) {
            return Err(StartError::TargetTwice { whose });
        }
        let token = target.token()?;
        let template = |text: &str, what: &'static str| {
            Template::parse(text).map_err(|source| StartError::Template {
                whose: whose.clone(),
                what,
                text: text.to_string(),
                source,
            })
        };
        let push = ScimPush::new(
            &target.name,
            &target.url,
            &token,
            template(&target.user_name, "user_name")?,
            template(&target.external_id, "external_id")?,
        )
        .map_err(|source| StartError::Push { whose: whose.clone(), source })?;
        connectors.push(Connector::Scim(push));
    }
    Ok(connectors)
}
