//! Bearer tokens for the admin API and the SCIM server. A token is 256 random bits with a
//! prefix naming its purpose (so secret scanners and people can tell them apart); the store
//! keeps only its SHA-256 digest, and a presented token is found by its digest, so no stored
//! secret is ever compared byte by byte.

use std::path::{Path, PathBuf};

use axum::http::{HeaderMap, header};
use crossfed_store::{ApiToken, NewToken, Store, StoreError, TokenStore};

pub const ADMIN: &str = "admin";
pub const SCIM: &str = "scim";

/// The name of the admin token `crossfed serve` writes to its data dir.
const BOOTSTRAP: &str = "bootstrap";

/// How often a token's last use is recorded at most (the store applies the same bound).
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// Shorter tokens are refused: they could be guessed.
pub const MIN_TOKEN_LENGTH: usize = 24;

fn prefix(purpose: &str) -> &'static str {
    if purpose == ADMIN { "cfadm_" } else { "cfscim_" }
}

pub fn digest(token: &str) -> String {
    crossfed_random::to_hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

/// A new token of `purpose`, and its record. The token itself is shown once and never stored.
pub async fn issue(
    store: &Store,
    purpose: &str,
    name: &str,
    expires_at: Option<i64>,
    now: i64,
) -> Result<(String, ApiToken), StoreError> {
    let token = format!("{}{}", prefix(purpose), crossfed_random::hex::<32>());
    let record = store.create_token(NewToken { purpose, name, digest: &digest(&token), expires_at }, now).await?;
    Ok((token, record))
}

/// Records a token chosen by the operator (`crossfed demo --scim-token`), unless it is already
/// recorded and live.
pub async fn adopt(store: &Store, purpose: &str, name: &str, token: &str, now: i64) -> Result<ApiToken, StoreError> {
    if token.len() < MIN_TOKEN_LENGTH || token.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(StoreError::Invalid(format!(
            "token: give at least {MIN_TOKEN_LENGTH} printable ASCII characters without spaces"
        )));
    }
    let digest = digest(token);
    match store.find_token(&digest).await? {
        Some(existing) if existing.purpose == purpose && existing.is_live(now) => Ok(existing),
        Some(_) => Err(StoreError::Invalid(
            "token: it was revoked, has expired or opens something else; choose another".to_string(),
        )),
        None => store.create_token(NewToken { purpose, name, digest: &digest, expires_at: None }, now).await,
    }
}

/// Why a request's token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenRejection {
    #[error("no bearer token: send the header `Authorization: Bearer TOKEN`")]
    Missing,
    #[error("the token is not known here; create one through the admin API")]
    Unknown,
    #[error("the token expired; create a new one")]
    Expired,
    #[error("the token was revoked; create a new one")]
    Revoked,
    #[error("the token store is unavailable: {0}")]
    Store(StoreError),
}

/// The live token of `purpose` the request carries.
pub async fn authenticate(
    store: &Store,
    headers: &HeaderMap,
    purpose: &str,
    now: i64,
) -> Result<ApiToken, TokenRejection> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(TokenRejection::Missing)?;
    let (scheme, token) = value.split_once(' ').ok_or(TokenRejection::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenRejection::Missing);
    }
    let record =
        store.find_token(&digest(token.trim())).await.map_err(TokenRejection::Store)?.ok_or(TokenRejection::Unknown)?;
    if record.purpose != purpose {
        return Err(TokenRejection::Unknown);
    }
    if record.revoked_at.is_some() {
        return Err(TokenRejection::Revoked);
    }
    if !record.is_live(now) {
        return Err(TokenRejection::Expired);
    }
    // A write per request would serialise API clients on SQLite; the record says when the
    // last one was.
    let recently_recorded = record.last_used_at.is_some_and(|at| now - at < TOUCH_INTERVAL_SECONDS);
    if !recently_recorded && let Err(e) = store.touch_token(&record.id, now).await {
        tracing::warn!("recording the use of token {}: {e}", record.id);
    }
    Ok(record)
}

/// Why the admin token file could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("{action} {path}: {source}")]
    File { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("the token store: {0}")]
    Store(#[from] StoreError),
}

/// Makes sure an admin token exists: when `DIR/admin-token` holds no live admin token, a new
/// one is created and written there (owner-readable only). Returns the file when it was written.
pub async fn ensure_admin_token(store: &Store, data_dir: &Path, now: i64) -> Result<Option<PathBuf>, TokenFileError> {
    let path = data_dir.join("admin-token");
    let file_error = |action, source| TokenFileError::File { action, path: path.clone(), source };
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if crossfed_files::readable_by_others(&path) {
            tracing::warn!("{} is readable by other users; restrict it with chmod 600", path.display());
        }
        let live =
            store.find_token(&digest(existing.trim())).await?.is_some_and(|t| t.purpose == ADMIN && t.is_live(now));
        if live {
            return Ok(None);
        }
    }
    let (token, record) = issue(store, ADMIN, BOOTSTRAP, None, now).await?;
    if let Err(e) = crossfed_files::replace_private(&path, format!("{token}\n").as_bytes()) {
        // A token nobody can read must not stay valid.
        let _ = store.revoke_token(ADMIN, &record.id, now).await;
        return Err(file_error("writing", e));
    }
    // Earlier bootstrap tokens (their file was lost or replaced) stop working.
    for old in store.list_tokens(ADMIN).await? {
        if old.name == BOOTSTRAP && old.id != record.id && old.revoked_at.is_none() {
            store.revoke_token(ADMIN, &old.id, now).await?;
        }
    }
    Ok(Some(path))
}
