//! Server-side sessions of the browsers signed in at the hub: one record per session in the
//! store. The cookie carries an unguessable secret and the store only its SHA-256 digest (the
//! session's ID), so whoever reads the database finds no session to use. A session ends after
//! its idle or absolute limit, at sign-out, or at a single-logout request naming it.

use axum::http::{HeaderMap, HeaderValue};
use crossfed_clock::Clock;
use crossfed_saml::NameId;
use crossfed_store::{ApiToken, ObjectKey, ObjectStore, Outcome, Store, StoreError, TokenStore, User};
use crossfed_web::set_cookie;
use serde::{Deserialize, Serialize};

use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use crate::browsers::{BrowserKey, KEY_SECONDS};
use crate::metrics::StoreTimer;
use crate::records::kinds::CONSOLE_SESSION;
use crate::records::{CONSOLE_SECONDS, SCOPE, insert_json, new_token, read_json};
use crate::tokens::digest;

pub const SESSION_KIND: &str = "hub-session";
const SESSION_SCOPE: &str = "hub";

/// Why a session could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the session could not be stored: {0}")]
    Store(#[from] StoreError),
    #[error("the sign-in's audit record could not be stored ({0}), so no session was opened; try again shortly")]
    Unrecorded(#[from] AuditError),
}

/// A signed-in session of the admin console, opened with an admin token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsoleSession {
    /// The digest of the cookie's secret.
    pub id: String,
    /// The admin token's digest: the session lives only while the token does.
    pub token_digest: String,
    /// The token's name, the actor in the audit log (`console:NAME`).
    pub token_name: String,
    pub created: i64,
    pub csrf: String,
}

impl ConsoleSession {
    /// The audit log's actor for changes made in this session.
    pub fn actor(&self) -> String {
        format!("console:{}", self.token_name)
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The digest of the cookie's secret.
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub created: i64,
    pub last_seen: i64,
    /// Sent back in every form; a cross-site form cannot know it.
    pub csrf: String,
    pub session_index: String,
    /// The upstream IdP's login this session came from, to end it there at logout.
    #[serde(default)]
    pub upstream: Option<UpstreamLogin>,
}

/// What the hub keeps of an upstream login, to end it at the IdP later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamLogin {
    pub name_id: NameId,
    pub session_index: Option<String>,
}

/// The hub's sessions: where they are kept, their limits and their cookie.
#[derive(Debug)]
pub struct Sessions {
    store: Store,
    clock: Clock,
    audit: Auditor,
    /// The session cookie's name ([`session_cookie_name`]), worked out once.
    cookie: String,
    secure: bool,
    pub idle_seconds: i64,
    pub max_seconds: i64,
    /// Times the store's lookups of sessions, the read every signed-in request makes.
    lookups: StoreTimer,
}

/// Browsers do not separate cookies by port, so two hubs on one host (the demo's corp and hub)
/// would overwrite each other's: the name carries a digest of the hub's URL. `__Host-` cookies
/// need Secure, so plain-http local runs use a plain prefix.
fn session_cookie_name(base_url: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, base_url.as_bytes());
    let tag: String = digest.as_ref().iter().take(4).map(|b| format!("{b:02x}")).collect();
    if base_url.starts_with("https://") {
        format!("__Host-crossfed-session-{tag}")
    } else {
        format!("crossfed-session-{tag}")
    }
}

impl Sessions {
    pub fn new(
        store: Store,
        clock: Clock,
        audit: Auditor,
        base_url: &str,
        idle_seconds: i64,
        max_seconds: i64,
    ) -> Self {
        Sessions {
            store,
            clock,
            audit,
            cookie: session_cookie_name(base_url),
            secure: base_url.starts_with("https://"),
            idle_seconds,
            max_seconds,
            lookups: StoreTimer::unregistered(),
        }
    }

    /// These sessions, their store lookups timed by `lookups`.
    pub fn with_lookup_timer(mut self, lookups: StoreTimer) -> Self {
        self.lookups = lookups;
        self
    }

    pub fn cookie_name(&self) -> &str {
        &self.cookie
    }

    /// Whether cookies carry `Secure` (the hub is served over HTTPS).
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// The cookie of the built-in sign-in form's nonce (login CSRF).
    pub fn login_nonce_cookie(&self) -> String {
        format!("{}-login", self.cookie)
    }

    /// The cookie of the browser's key, which binds pending sign-ins to it ([`crate::browsers`]).
    pub fn browser_cookie(&self) -> String {
        format!("{}-browser", self.cookie)
    }

    /// The `Set-Cookie` value that gives the browser `key` (again, for another day).
    pub fn browser_key_cookie(&self, key: &BrowserKey) -> Option<HeaderValue> {
        self.cookie(&self.browser_cookie(), key.value(), "/", KEY_SECONDS)
    }

    /// The key the request's browser presents, if any.
    pub fn browser_key(&self, headers: &HeaderMap) -> Option<BrowserKey> {
        crossfed_web::cookie(headers, &self.browser_cookie()).and_then(BrowserKey::from_cookie)
    }

    /// The cookie of the admin console's sessions.
    pub fn console_cookie(&self) -> String {
        format!("{}-admin", self.cookie)
    }

    /// A `Set-Cookie` value of `name` for this hub (HttpOnly, SameSite=Lax, Secure over HTTPS).
    pub fn cookie(&self, name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
        set_cookie(name, value, path, max_age, self.secure)
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn cleared(&self) -> Option<HeaderValue> {
        self.cookie(&self.cookie, "", "/", 0)
    }

    /// The session of the request, if it has a live one (idle and absolute limits applied). A
    /// store that does not answer is an error, never "no session".
    pub async fn current(&self, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
        let Some(secret) = crossfed_web::cookie(headers, &self.cookie) else {
            return Ok(None);
        };
        let id = &digest(secret);
        let started = std::time::Instant::now();
        let stored = self.store.get_object(SESSION_KIND, id).await;
        self.lookups.observe(started.elapsed());
        let Some(stored) = stored? else {
            return Ok(None);
        };
        let Ok(mut session) = serde_json::from_str::<Session>(&stored.body) else {
            return Ok(None);
        };
        let now = self.clock.unix();
        if now - session.last_seen > self.idle_seconds || now - session.created > self.max_seconds {
            let _ = self.store.delete_object(SESSION_KIND, id).await;
            return Ok(None);
        }
        // Record activity at most once a minute, to keep writes down.
        if now - session.last_seen > 60 {
            session.last_seen = now;
            if let Ok(body) = serde_json::to_string(&session) {
                let _ = self.store.update_object(SESSION_KIND, id, &body, stored.version, now).await;
            }
        }
        Ok(Some(session))
    }

    /// Opens a session for `user` (a new ID at every sign-in: a planted cookie cannot be carried
    /// into a session), ends the one the browser had, audits the sign-in by `method`, and
    /// returns the cookie to set.
    pub async fn start(
        &self,
        user: &User,
        headers: &HeaderMap,
        method: &str,
        upstream: Option<UpstreamLogin>,
    ) -> Result<Option<HeaderValue>, SessionError> {
        let now = self.clock.unix();
        let secret = new_token();
        let session = Session {
            id: digest(&secret),
            user_id: user.id.clone(),
            user_name: user.user_name.clone(),
            created: now,
            last_seen: now,
            csrf: new_token(),
            session_index: format!("_{}", new_token()),
            upstream,
        };
        let key = ObjectKey { kind: SESSION_KIND, scope: SESSION_SCOPE, name_key: &session.id, id: &session.id };
        insert_json(&self.store, key, &session, now).await?;
        let recorded = self.audit.record(&user.user_name, "login", None, Outcome::Success, method.to_string()).await;
        if let Err(e) = recorded {
            // Fail closed: a sign-in the audit log does not show opens nothing.
            let _ = self.store.delete_object(SESSION_KIND, &session.id).await;
            return Err(e.into());
        }
        if let Some(old) = crossfed_web::cookie(headers, &self.cookie) {
            let _ = self.store.delete_object(SESSION_KIND, &digest(old)).await;
        }
        Ok(self.cookie(&self.cookie, &secret, "/", self.max_seconds))
    }

    /// Ends `session`, audited with `detail` (empty for a sign-out at the hub).
    pub async fn end(&self, session: &Session, detail: String) {
        let _ = self.store.delete_object(SESSION_KIND, &session.id).await;
        self.audit.note(&session.user_name, "logout", None, Outcome::Success, detail).await;
    }

    /// Removes sessions past their limits at `now`; returns how many went.
    pub async fn sweep(&self, now: i64) -> Result<u64, StoreError> {
        // A live session is touched at least once a minute while used, hence the extra minute.
        self.store.delete_stale_objects(SESSION_KIND, now - self.idle_seconds - 60, now - self.max_seconds).await
    }

    /// Opens a console session for the live admin `token` (presented as `token_digest`); returns it
    /// and the cookie to set.
    pub async fn start_console(
        &self,
        token: &ApiToken,
        token_digest: String,
    ) -> Result<(ConsoleSession, Option<HeaderValue>), SessionError> {
        let now = self.clock.unix();
        let secret = new_token();
        let session = ConsoleSession {
            id: digest(&secret),
            token_digest,
            token_name: token.name.clone(),
            created: now,
            csrf: new_token(),
        };
        let key = ObjectKey { kind: CONSOLE_SESSION, scope: SCOPE, name_key: &session.id, id: &session.id };
        insert_json(&self.store, key, &session, now).await?;
        let recorded =
            self.audit.record(&session.actor(), "console.login", None, Outcome::Success, String::new()).await;
        if let Err(e) = recorded {
            let _ = self.store.delete_object(CONSOLE_SESSION, &session.id).await;
            return Err(e.into());
        }
        let cookie = self.cookie(&self.console_cookie(), &secret, "/admin", CONSOLE_SECONDS);
        Ok((session, cookie))
    }

    /// The console session of the request, if its admin token is still live; a store that does
    /// not answer is an error.
    pub async fn console(&self, headers: &HeaderMap) -> Result<Option<ConsoleSession>, StoreError> {
        let Some(secret) = crossfed_web::cookie(headers, &self.console_cookie()) else {
            return Ok(None);
        };
        let id = &digest(secret);
        let Some(session) = read_json::<ConsoleSession>(&self.store, CONSOLE_SESSION, id).await? else {
            return Ok(None);
        };
        let now = self.clock.unix();
        let token_live = self.store.find_token(&session.token_digest).await?.is_some_and(|t| t.is_live(now));
        if !token_live || now - session.created > CONSOLE_SECONDS {
            let _ = self.store.delete_object(CONSOLE_SESSION, id).await;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Ends a console session; returns the cookie that clears it.
    pub async fn end_console(&self, session: &ConsoleSession) -> Option<HeaderValue> {
        let _ = self.store.delete_object(CONSOLE_SESSION, &session.id).await;
        self.cookie(&self.console_cookie(), "", "/admin", 0)
    }
}
