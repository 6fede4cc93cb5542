//! Starting a hub from its configuration: the store, the signing key, the bootstrap users and
//! the applications. Idempotent: existing users keep their passwords.

use std::path::Path;

use crossfed_store::{CredentialStore, Email, NewUser, Store, ThrottlePolicy, UserStore};

use crate::config::HubConfig;
use crate::server::Hub;

pub async fn build_hub(
    config: &HubConfig,
    store: Store,
    data_dir: &Path,
    base_url: &str,
    now: i64,
) -> Result<(Hub, Vec<String>), String> {
    let mut changes = Vec::new();
    let keys = crate::keys::KeyRing::load(data_dir, "crossfed hub")?;
    for entry in &config.users {
        let user = match store.find_user_by_name(&entry.user_name).await.map_err(|e| e.to_string())? {
            Some(u) => u,
            None => {
                let new = NewUser {
                    user_name: entry.user_name.clone(),
                    emails: entry.email.iter().map(|e| Email::work(e)).collect(),
                    given_name: entry.given_name.clone(),
                    family_name: entry.family_name.clone(),
                    display_name: entry.display_name.clone(),
                    active: true,
                    ..NewUser::default()
                };
                changes.push(format!("created user {}", entry.user_name));
                store.create_user(&new, now).await.map_err(|e| format!("user {}: {e}", entry.user_name))?
            }
        };
        if let Some(password) = &entry.password
            && store.credentials(&user.id).await.map_err(|e| e.to_string())?.password_hash.is_none()
        {
            let hash = crate::password::hash_off_runtime(password)
                .await
                .map_err(|e| format!("user {}: {e}", entry.user_name))?;
            store.set_password_hash(&user.id, &hash, now).await.map_err(|e| e.to_string())?;
            changes.push(format!("set the password of {}", entry.user_name));
        }
    }
    changes.extend(crate::applications::apply_config(&store, &config.applications, now).await?);
    let catalog =
        crate::applications::Catalog::load(&store).await.map_err(|e| format!("reading the applications: {e}"))?;
    let identity_source = match &config.identity_source {
        Some(source) => Some(load_identity_source(source, base_url).await?),
        None => None,
    };
    let audit_log = crate::audit_queue::AuditQueue::start(store.clone())?;
    let base_url = base_url.trim_end_matches('/').to_string();
    let hub = Hub {
        store,
        session_cookie: crate::server::session_cookie_name(&base_url),
        base_url,
        keys,
        applications: crate::applications::CatalogCache::new(catalog),
        throttle: ThrottlePolicy::default(),
        idle_seconds: config.hub.session_idle_minutes.unwrap_or(60) * 60,
        max_seconds: config.hub.session_max_hours.unwrap_or(12) * 3600,
        identity_source,
        directory_changed: std::sync::Arc::new(tokio::sync::Notify::new()),
        connectors: connectors(config)?,
        check_parties: check_parties(config)?,
        audit_log,
        connect_confirmations: crate::provision::connect::Confirmations::default(),
        provisioning_pass: tokio::sync::Mutex::new(()),
        instance_id: format!("{}-{}", std::process::id(), crossfed_random::hex::<8>()),
        clock: crate::clock::Clock::system(),
        schedule: crate::provision::Schedule {
            interval_seconds: config.provisioning.interval_seconds,
            retry_base_seconds: config.provisioning.retry_base_seconds,
        },
    };
    match crate::metadata_refresh::adopt_upload(&hub).await {
        Ok(true) => changes.push("trusting the identity source's uploaded metadata".to_string()),
        Ok(false) => {}
        Err(e) => tracing::warn!("the uploaded identity source metadata is not used: {e}"),
    }
    Ok((hub, changes))
}

/// Metadata from a file or a URL, exactly one of which is given; `whose` names it in errors.
pub(crate) async fn read_metadata(
    file: Option<&Path>,
    url: Option<&str>,
    whose: &str,
) -> Result<crossfed_saml::EntityDescriptor, String> {
    let xml = fetch_metadata(file, url, whose).await?;
    crossfed_saml::EntityDescriptor::parse(&xml).map_err(|e| format!("{whose} metadata: {e}"))
}

/// The bytes of a metadata document from a file or a URL, exactly one of which is given.
pub(crate) async fn fetch_metadata(file: Option<&Path>, url: Option<&str>, whose: &str) -> Result<Vec<u8>, String> {
    match (file, url) {
        (Some(file), None) => std::fs::read(file).map_err(|e| format!("{whose}: reading {}: {e}", file.display())),
        (None, Some(url)) => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| format!("HTTP client: {e}"))?;
            let response = client.get(url).send().await.map_err(|e| format!("{whose}: fetching {url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("{whose}: fetching {url}: HTTP {}", response.status()));
            }
            Ok(response.bytes().await.map_err(|e| format!("{whose}: fetching {url}: {e}"))?.to_vec())
        }
        _ => Err(format!("{whose}: give exactly one of metadata_file or metadata_url")),
    }
}

/// Reads the upstream IdP's metadata from its file or URL.
async fn load_identity_source(
    entry: &crate::config::IdentitySourceEntry,
    base_url: &str,
) -> Result<crate::upstream::IdentitySource, String> {
    let idp = read_metadata(entry.metadata_file.as_deref(), entry.metadata_url.as_deref(), "identity source").await?;
    idp.require_idp().map_err(|e| format!("identity source metadata: {e}"))?;
    let (sp_entity_id, acs_url) = crate::upstream::sp_endpoints(base_url);
    let mut source =
        crate::upstream::IdentitySource::new(sp_entity_id, acs_url, idp, entry.provisioning, entry.allow_idp_initiated);
    if entry.refresh_minutes > 0 {
        source.refresh = Some(crate::upstream::MetadataRefresh {
            file: entry.metadata_file.clone(),
            url: entry.metadata_url.clone(),
            every_seconds: entry.refresh_minutes.saturating_mul(60),
        });
    }
    Ok(source)
}

/// A secret given inline or in a file (exactly one of the two).
fn secret(value: Option<&str>, file: Option<&Path>, whose: &str, what: &str) -> Result<String, String> {
    match (value, file) {
        (Some(value), None) => Ok(value.to_string()),
        (None, Some(file)) => Ok(std::fs::read_to_string(file)
            .map_err(|e| format!("{whose}: reading {}: {e}", file.display()))?
            .trim()
            .to_string()),
        _ => Err(format!("{whose}: give exactly one of {what} or {what}_file")),
    }
}

/// Where the console's chain checks find the target account and the upstream IdP's metadata.
fn check_parties(config: &HubConfig) -> Result<Option<crate::doctor::Parties>, String> {
    let Some(entry) = &config.target_account else { return Ok(None) };
    let secret_access_key = secret(
        entry.secret_access_key.as_deref(),
        entry.secret_access_key_file.as_deref(),
        "target_account",
        "secret_access_key",
    )?;
    Ok(Some(crate::doctor::Parties {
        target: crate::doctor::TargetAccess {
            endpoint: entry.endpoint.clone(),
            access_key_id: entry.access_key_id.clone(),
            secret_access_key,
            signin_url: entry.signin_url.clone(),
        },
        idp_metadata_url: config.identity_source.as_ref().and_then(|s| s.metadata_url.clone()),
    }))
}

/// The provisioning connectors the configuration asks for.
fn connectors(config: &HubConfig) -> Result<Vec<crate::provision::Connector>, String> {
    use crate::provision::Connector;
    let mut connectors = Vec::new();
    if !(1..=86_400).contains(&config.provisioning.interval_seconds) {
        return Err("provisioning.interval_seconds: give 1 to 86400 seconds".to_string());
    }
    if !(1..=3_600).contains(&config.provisioning.retry_base_seconds) {
        return Err("provisioning.retry_base_seconds: give 1 to 3600 seconds".to_string());
    }
    for (i, target) in config.provisioning.scim.iter().enumerate() {
        let whose = format!("provisioning target {}", target.name);
        if config.provisioning.scim.iter().take(i).any(|t| t.name == target.name) {
            return Err(format!("{whose}: the name is used twice; each target needs its own"));
        }
        let token = secret(target.token.as_deref(), target.token_file.as_deref(), &whose, "token")?;
        let template = |text: &str, what: &str| {
            crate::mapping::Template::parse(text).map_err(|e| format!("{whose}: {what} {text:?}: {e}"))
        };
        let push = crate::provision::scim_push::ScimPush::new(
            &target.name,
            &target.url,
            &token,
            template(&target.user_name, "user_name")?,
            template(&target.external_id, "external_id")?,
        )
        .map_err(|e| format!("{whose}: {e}"))?;
        connectors.push(Connector::Scim(push));
    }
    Ok(connectors)
}
