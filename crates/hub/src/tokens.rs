//! Bearer tokens for the admin API and the SCIM server. A token is 256 random bits with a
//! prefix naming its purpose (so secret scanners and people can tell them apart); the store
//! keeps only its SHA-256 digest, and a presented token is found by its digest, so no stored
//! secret is ever compared byte by byte.
//!
//! A token is rotated with an overlap: the successor is issued and the old token keeps working
//! until the overlap ends, so a client (Entra ID's provisioning settings) can be given the new
//! one without an outage. Tokens that expire soon are warned about ([`expiry_warnings`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::{HeaderMap, header};
use crossfed_store::{ApiToken, NewToken, Rotation, Store, StoreError, TokenStore};
use serde::Serialize;

pub const ADMIN: &str = "admin";
pub const SCIM: &str = "scim";

/// The name of the admin token `crossfed serve` writes to its data dir.
const BOOTSTRAP: &str = "bootstrap";

/// How often a token's last use is recorded at most (the store applies the same bound).
const TOUCH_INTERVAL_SECONDS: i64 = 60;

/// Shorter tokens are refused: they could be guessed.
pub const MIN_TOKEN_LENGTH: usize = 24;

/// The longest lifetime a token is given, in days (ten years).
pub const MAX_LIFETIME_DAYS: i64 = 3650;

/// How long a rotated token keeps working beside its successor unless the request says: a day
/// is time to paste the new token into the client and see one provisioning cycle (Entra ID's
/// runs every 40 minutes) succeed with it.
pub const DEFAULT_OVERLAP_HOURS: i64 = 24;

/// The longest overlap a rotation takes (30 days).
pub const MAX_OVERLAP_HOURS: i64 = 720;

/// Tokens expiring within this many days are warned about.
pub const WARN_WITHIN_DAYS: i64 = 30;

const DAY: i64 = 86_400;

fn prefix(purpose: &str) -> &'static str {
    if purpose == ADMIN { "cfadm_" } else { "cfscim_" }
}

/// The purpose as people read it.
fn label(purpose: &str) -> &'static str {
    if purpose == ADMIN { "admin" } else { "SCIM" }
}

/// The CLI's command group for tokens of `purpose`.
fn command_group(purpose: &str) -> &'static str {
    if purpose == ADMIN { "admin-tokens" } else { "scim-tokens" }
}

/// A Unix time as RFC 3339 text (UTC), for messages; the number itself if it is out of range.
pub fn utc_text(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
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

/// What a rotation asks for: both optional ([`DEFAULT_OVERLAP_HOURS`]; the old token's lifetime).
#[derive(Debug, Clone, Copy, Default)]
pub struct RotateRequest {
    /// Hours the old token keeps working beside the new one (0 to [`MAX_OVERLAP_HOURS`]).
    pub overlap_hours: Option<i64>,
    /// Days until the new token expires (1 to [`MAX_LIFETIME_DAYS`]).
    pub expires_in_days: Option<i64>,
}

/// A rotation done: the new token (shown once), its record, and the old token's record with the
/// expiry it now has.
#[derive(Debug)]
pub struct Rotated {
    pub token: String,
    pub new: ApiToken,
    pub old: ApiToken,
}

/// Why a token was not rotated.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("overlap_hours: expected 0 to {MAX_OVERLAP_HOURS} hours, found {0}")]
    Overlap(i64),
    #[error(
        "expires_in_days: expected 1 to {MAX_LIFETIME_DAYS} days (or leave it out to keep the old token's lifetime), found {0}"
    )]
    Lifetime(i64),
    #[error("no {} token has ID {id:?}; list them with `crossfed {} list`", label(purpose), command_group(purpose))]
    NoSuchToken { purpose: String, id: String },
    #[error(
        "{} token {name:?} ({id}) was revoked at {}: expected a live token; create a new one with `crossfed {} create`",
        label(purpose), utc_text(*at), command_group(purpose)
    )]
    Revoked { purpose: String, id: String, name: String, at: i64 },
    #[error(
        "{} token {name:?} ({id}) expired at {}: expected a live token; create a new one with `crossfed {} create`",
        label(purpose), utc_text(*at), command_group(purpose)
    )]
    Expired { purpose: String, id: String, name: String, at: i64 },
    #[error(
        "{} token {name:?} ({id}) was rotated already: expected a token not yet replaced, found one replaced by {successor}; rotate {successor} instead",
        label(purpose)
    )]
    Replaced { purpose: String, id: String, name: String, successor: String },
    #[error(transparent)]
    Store(StoreError),
}

/// Replaces the live token `id` of `purpose` with a new one of the same name, in one store
/// transaction: the old token's expiry becomes at most `now` + the overlap (never later than it
/// was), and each names the other. The new token expires after `expires_in_days`, or else after
/// the old token's lifetime (never, if the old one had no expiry).
pub async fn rotate(
    store: &Store,
    purpose: &str,
    id: &str,
    request: RotateRequest,
    now: i64,
) -> Result<Rotated, RotateError> {
    let overlap_hours = request.overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if !(0..=MAX_OVERLAP_HOURS).contains(&overlap_hours) {
        return Err(RotateError::Overlap(overlap_hours));
    }
    if let Some(days) = request.expires_in_days.filter(|d| !(1..=MAX_LIFETIME_DAYS).contains(d)) {
        return Err(RotateError::Lifetime(days));
    }
    let not_found = || RotateError::NoSuchToken { purpose: purpose.to_string(), id: id.to_string() };
    // Read first only for the name and lifetime; the store's transaction re-checks liveness.
    let current = store.list_tokens(purpose).await.map_err(RotateError::Store)?;
    let old = current.into_iter().find(|t| t.id == id).ok_or_else(not_found)?;
    let expires_at = match request.expires_in_days {
        Some(days) => Some(now + days * DAY),
        None => old.expires_at.map(|e| now + (e - old.created_at).clamp(DAY, MAX_LIFETIME_DAYS * DAY)),
    };
    let token = format!("{}{}", prefix(purpose), crossfed_random::hex::<32>());
    let successor = NewToken { purpose, name: &old.name, digest: &digest(&token), expires_at };
    match store.rotate_token(purpose, id, successor, now + overlap_hours * 3600, now).await {
        Ok(Rotation::Rotated { old, new }) => Ok(Rotated { token, new, old }),
        Ok(Rotation::Refused(found)) => Err(refusal(found, now)),
        Err(StoreError::NotFound { .. }) => Err(not_found()),
        Err(e) => Err(RotateError::Store(e)),
    }
}

/// Why the store refused to rotate `found`.
fn refusal(found: ApiToken, now: i64) -> RotateError {
    let ApiToken { purpose, id, name, revoked_at, replaced_by, expires_at, .. } = found;
    match (revoked_at, replaced_by) {
        (Some(at), _) => RotateError::Revoked { purpose, id, name, at },
        (None, Some(successor)) => RotateError::Replaced { purpose, id, name, successor },
        (None, None) => RotateError::Expired { purpose, id, name, at: expires_at.unwrap_or(now) },
    }
}

/// Whole days from `now` until `expires_at` (negative once it has passed).
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    (expires_at - now).div_euclid(DAY)
}

/// A token's state at `now`: `revoked`, `expired`, `rotated` (replaced, working until its
/// expiry: the overlap) or `live`.
pub fn state(token: &ApiToken, now: i64) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if !token.is_live(now) {
        "expired"
    } else if token.replaced_by.is_some() {
        "rotated"
    } else {
        "live"
    }
}

/// A token that expires within [`WARN_WITHIN_DAYS`] (or expired less than that long ago) and
/// that nothing replaces: what the log, the listings and `crossfed check` warn about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenWarning {
    pub id: String,
    pub name: String,
    /// `admin` or `scim`.
    pub purpose: String,
    pub expires_at: i64,
    /// Whole days left; negative once expired.
    pub days_left: i64,
}

impl TokenWarning {
    /// The command that rotates the token at the hub at `hub_url`.
    pub fn rotate_command(&self, hub_url: &str) -> String {
        format!("crossfed {} rotate {} --hub {hub_url}", command_group(&self.purpose), self.id)
    }

    /// When it expires, in words: "expires in 10 days (2026-…Z)", "expired 2026-…Z".
    pub fn when(&self, now: i64) -> String {
        let at = utc_text(self.expires_at);
        match self.days_left {
            _ if self.expires_at <= now => format!("expired {at}"),
            0 => format!("expires in less than a day ({at})"),
            1 => format!("expires in 1 day ({at})"),
            n => format!("expires in {n} days ({at})"),
        }
    }

    /// The whole warning: which token, when, and what to do.
    pub fn message(&self, hub_url: &str, now: i64) -> String {
        format!(
            "{} token {:?} ({}) {}: rotate it with `{}`, then give the new token to its client before the old one stops ({} h later by default)",
            label(&self.purpose),
            self.name,
            self.id,
            self.when(now),
            self.rotate_command(hub_url),
            DEFAULT_OVERLAP_HOURS
        )
    }
}

/// The tokens of `tokens` to warn about at `now`: not revoked, not replaced by a rotation,
/// expiring before [`WARN_WITHIN_DAYS`] from now or expired less than that long ago, and not
/// outlived by a live token of the same purpose and name (a replacement made by hand). Soonest
/// first.
pub fn expiry_warnings(tokens: &[ApiToken], now: i64) -> Vec<TokenWarning> {
    let window = WARN_WITHIN_DAYS * DAY;
    // The furthest expiry among live, unreplaced tokens of each purpose and name (None: never).
    let mut outlasting: BTreeMap<(&str, &str), Option<i64>> = BTreeMap::new();
    for t in tokens.iter().filter(|t| t.is_live(now) && t.replaced_by.is_none()) {
        let furthest = outlasting.entry((t.purpose.as_str(), t.name.as_str())).or_insert(t.expires_at);
        *furthest = furthest.zip(t.expires_at).map(|(a, b)| a.max(b));
    }
    let mut warnings: Vec<TokenWarning> = tokens
        .iter()
        .filter(|t| t.revoked_at.is_none() && t.replaced_by.is_none())
        .filter_map(|t| {
            let expires_at = t.expires_at?;
            if expires_at >= now + window || expires_at <= now - window {
                return None;
            }
            let outlived = match outlasting.get(&(t.purpose.as_str(), t.name.as_str())) {
                Some(None) => true,
                Some(Some(furthest)) => *furthest > expires_at,
                None => false,
            };
            (!outlived).then(|| TokenWarning {
                id: t.id.clone(),
                name: t.name.clone(),
                purpose: t.purpose.clone(),
                expires_at,
                days_left: days_left(expires_at, now),
            })
        })
        .collect();
    warnings.sort_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)));
    warnings
}

/// Logs a WARN line for each admin and SCIM token to warn about at `now` (the hub does at start
/// and once a day), naming the command that rotates it at `hub_url`; returns them.
pub async fn warn_of_expiries(store: &Store, hub_url: &str, now: i64) -> Result<Vec<TokenWarning>, StoreError> {
    let mut all = store.list_tokens(ADMIN).await?;
    all.extend(store.list_tokens(SCIM).await?);
    let warnings = expiry_warnings(&all, now);
    for w in &warnings {
        tracing::warn!(
            token_id = %w.id,
            token_name = %w.name,
            purpose = %w.purpose,
            days_left = w.days_left,
            "{}",
            w.message(hub_url, now)
        );
    }
    Ok(warnings)
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
    // Earlier bootstrap tokens (their file was lost or replaced) stop working; not a rotation's
    // successor, which was handed to an administrator rather than written to the file.
    for old in store.list_tokens(ADMIN).await? {
        if old.name == BOOTSTRAP && old.id != record.id && old.revoked_at.is_none() && old.rotated_from.is_none() {
            store.revoke_token(ADMIN, &old.id, now).await?;
        }
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn token(id: &str, purpose: &str, name: &str, expires_at: Option<i64>) -> ApiToken {
        ApiToken {
            id: id.to_string(),
            purpose: purpose.to_string(),
            name: name.to_string(),
            created_at: NOW - 300 * DAY,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            rotated_from: None,
            replaced_by: None,
        }
    }

    #[test]
    fn tokens_expiring_within_30_days_are_warned_about_soonest_first() {
        let tokens = [
            token("far", SCIM, "far", Some(NOW + 31 * DAY)),
            token("never", SCIM, "never", None),
            token("ten", SCIM, "entra", Some(NOW + 10 * DAY)),
            token("hours", ADMIN, "ci", Some(NOW + 3600)),
            token("edge", SCIM, "edge", Some(NOW + 30 * DAY)),
        ];
        let warnings = expiry_warnings(&tokens, NOW);
        let found: Vec<_> = warnings.iter().map(|w| (w.id.as_str(), w.days_left)).collect();
        assert_eq!(found, [("hours", 0), ("ten", 10)]);
        let message = warnings[1].message("https://sso.example.com", NOW);
        assert!(message.starts_with("SCIM token \"entra\" (ten) expires in 10 days (2027-"), "{message}");
        assert!(message.contains("`crossfed scim-tokens rotate ten --hub https://sso.example.com`"), "{message}");
        assert_eq!(warnings[0].when(NOW), "expires in less than a day (2027-01-15T09:00:00Z)");
        assert_eq!(warnings[0].rotate_command("http://h"), "crossfed admin-tokens rotate hours --hub http://h");
    }

    #[test]
    fn rotated_revoked_outlived_and_long_expired_tokens_are_not_warned_about() {
        let mut rotated = token("rotated", SCIM, "entra", Some(NOW + DAY));
        rotated.replaced_by = Some("next".to_string());
        let next = token("next", SCIM, "entra", Some(NOW + 365 * DAY));
        let mut revoked = token("revoked", SCIM, "old", Some(NOW + DAY));
        revoked.revoked_at = Some(NOW - 10);
        // Replaced by hand: a live token of the same name that lasts longer.
        let by_hand = token("by-hand", ADMIN, "ci", Some(NOW + 5 * DAY));
        let newer = token("newer", ADMIN, "ci", None);
        let long_gone = token("long-gone", SCIM, "gone", Some(NOW - 31 * DAY));
        let tokens = [rotated, next, revoked, by_hand, newer, long_gone];
        assert_eq!(expiry_warnings(&tokens, NOW), []);
    }

    #[test]
    fn a_token_that_expired_recently_and_was_not_replaced_is_still_warned_about() {
        let tokens = [token("lapsed", SCIM, "entra", Some(NOW - 2 * DAY - 1))];
        let warnings = expiry_warnings(&tokens, NOW);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].days_left, -3);
        assert!(warnings[0].when(NOW).starts_with("expired 2027-"), "{:?}", warnings[0]);
        assert_eq!(state(&tokens[0], NOW), "expired");
    }
}
