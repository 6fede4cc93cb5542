//! `crossfed serve --check-config`: every check a start makes that needs neither the store nor
//! the network — the file itself (unknown keys, types), settings in their ranges, secrets found
//! in their files and environment variables, templates, each application compiled, metadata
//! files parsed — each problem said, not only the first. Metadata given by URL is not fetched.

use crossfed_store::email_key;

use crate::bootstrap::{check_settings, connectors};
use crate::config::{ApplicationEntry, HubConfig};
use crate::metadata_source::read_metadata;

/// What a check found.
#[derive(Debug, Default)]
pub struct ConfigCheck {
    /// Each problem a start would stop at, said as the start would say it.
    pub problems: Vec<String>,
    /// What was left unchecked, and why.
    pub notes: Vec<String>,
}

/// Checks `config` as far as it can without the store or the network.
pub async fn check_config(config: &HubConfig) -> ConfigCheck {
    let mut results: Vec<Result<(), String>> = vec![
        check_settings(config).map_err(|e| e.to_string()),
        connectors(config).map(drop).map_err(|e| e.to_string()),
        distinct_emails(config),
    ];
    // Every target account's problem, not only the first.
    results.extend(config.target_account_problems().into_iter().map(|e| Err(e.to_string())));
    results.extend(config.users.iter().map(|user| user.password().map(drop).map_err(|e| e.to_string())));
    let mut notes = Vec::new();
    for (i, entry) in config.applications.iter().enumerate() {
        if config.applications.iter().take(i).any(|other| other.id == entry.id) {
            results.push(Err(format!("application id {:?} is used twice", entry.id)));
        }
        match application(entry).await {
            Ok(note) => notes.extend(note),
            Err(problem) => results.push(Err(problem)),
        }
    }
    if let Some(source) = &config.identity_source {
        match (&source.metadata_file, &source.metadata_url) {
            (Some(file), None) => results.push(identity_source_file(file).await),
            (None, Some(url)) => notes.push(format!("identity source metadata {url} is fetched at start, not now")),
            _ => results.push(Err("identity_source: give one of metadata_file or metadata_url".to_string())),
        }
    }
    ConfigCheck { problems: results.into_iter().filter_map(Result::err).collect(), notes }
}

/// The identity source's metadata file: an IdP's metadata.
async fn identity_source_file(file: &std::path::Path) -> Result<(), String> {
    let metadata = read_metadata(Some(file), None, "identity source").await.map_err(|e| e.to_string())?;
    metadata.require_idp().map(drop).map_err(|e| format!("identity source metadata: {e}"))
}

/// The file's users may not share an e-mail address.
fn distinct_emails(config: &HubConfig) -> Result<(), String> {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for entry in &config.users {
        let Some(key) = entry.email.as_deref().and_then(email_key) else { continue };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(format!(
                "users {first:?} and {:?} of the configuration file both have the e-mail address {:?}; give one of them another address",
                entry.user_name,
                entry.email.as_deref().unwrap_or_default()
            ));
        }
        seen.push((key, &entry.user_name));
    }
    Ok(())
}

/// Compiles one application as a start would; an application whose metadata comes from a URL
/// is left for the start (a note says so).
async fn application(entry: &ApplicationEntry) -> Result<Option<String>, String> {
    let whose = format!("application {}", entry.id);
    let spec = entry.spec().map_err(|e| e.to_string())?;
    if let Some(url) = spec.custom.as_ref().and_then(|c| c.metadata_url.as_deref()) {
        return Ok(Some(format!("{whose}: its metadata {url} is fetched at start, not now")));
    }
    let spec = spec.with_metadata_read(&whose).await.map_err(|e| e.to_string())?;
    spec.compile(&entry.id).map(|_| None).map_err(|e| e.to_string())
}
