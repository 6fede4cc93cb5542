//! The hub's listener: built-in directory sign-in, server-side sessions, the portal listing the
//! applications a user may open, launches (a signed Response posted by the browser), and each
//! application's IdP metadata.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossfed_saml::{EntityDescriptor, Instant, MessageKind, ns, post_form};
use crossfed_store::{AuditEvent, GroupStore, ObjectKey, ObjectStore, Outcome, Store, ThrottlePolicy, User, UserStore};
use crossfed_web::{FormTargets, escape, html, see_other, set_cookie};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::catalog::Application;
use crate::launch::{Launch, build_launch_response};
use crate::login::{LoginError, authenticate};
use crate::mapping::UserValues;

pub(crate) const SESSION_KIND: &str = "hub-session";
const SESSION_SCOPE: &str = "hub";

/// Everything the hub's handlers need.
#[derive(Debug)]
pub struct Hub {
    pub store: Store,
    pub base_url: String,
    /// The session cookie's name ([`session_cookie_name`]), worked out once.
    pub session_cookie: String,
    /// The signing key, and the certificates published in metadata (the current key's, then a
    /// staged next one's).
    pub keys: crate::keys::KeyRing,
    /// Applications and who is assigned to each, as last read from the store.
    pub applications: crate::applications::CatalogCache,
    pub throttle: ThrottlePolicy,
    pub idle_seconds: i64,
    pub max_seconds: i64,
    /// When set, people sign in at this IdP instead of the built-in directory.
    pub identity_source: Option<crate::upstream::IdentitySource>,
    /// Signalled on every directory change, so provisioning pushes it without waiting for its
    /// next full pass.
    pub directory_changed: Arc<tokio::sync::Notify>,
    /// Outbound provisioning connectors, and how often they run.
    pub connectors: Vec<crate::provision::Connector>,
    pub schedule: crate::provision::Schedule,
    /// Audit records, written with group commit.
    pub audit_log: crate::audit_queue::AuditQueue,
    /// The target account and IdP metadata the console's chain checks read, when configured.
    pub check_parties: Option<crate::doctor::Parties>,
    /// What provisioning passes confirmed the Connect instances hold.
    pub connect_confirmations: crate::provision::connect::Confirmations,
    /// Held while a provisioning pass runs, so passes in this process never overlap.
    pub provisioning_pass: tokio::sync::Mutex<()>,
    /// This process's name among the hub instances sharing the store (provisioning leases).
    pub instance_id: String,
    /// The time SAML responses are judged at (the system clock; tests fix or shift it).
    pub clock: crate::clock::Clock,
}

impl Hub {
    pub(crate) fn secure(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub(crate) fn cookie_name(&self) -> &str {
        &self.session_cookie
    }

    fn login_nonce_cookie(&self) -> String {
        format!("{}-login", self.cookie_name())
    }

    /// The application catalog, reloaded when it changed in the store (at most one check a second).
    pub async fn catalog(&self) -> Arc<crate::applications::Catalog> {
        self.applications.current(&self.store).await
    }

    /// The IdP entity ID the hub uses toward application `id`.
    pub fn app_entity_id(&self, id: &str) -> String {
        format!("{}/saml/apps/{id}", self.base_url)
    }
}

/// Who may open an application: users by name, and members of groups by group name (both
/// compared case-insensitively, as the directory's names are unique that way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignees {
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

impl Assignees {
    pub fn includes(&self, user_name: &str, group_names: &[String]) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(user_name))
            || group_names.iter().any(|g| self.groups.iter().any(|a| a.eq_ignore_ascii_case(g)))
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) user_name: String,
    pub(crate) created: i64,
    pub(crate) last_seen: i64,
    /// Sent back in every form; a cross-site form cannot know it.
    pub(crate) csrf: String,
    pub(crate) session_index: String,
    /// The upstream IdP's login this session came from, to end it there at logout.
    #[serde(default)]
    pub(crate) upstream: Option<crate::logout::UpstreamLogin>,
}

/// Browsers do not separate cookies by port, so two hubs on one host (the demo's corp and hub)
/// would overwrite each other's: the name carries a digest of the hub's URL. `__Host-` cookies
/// need Secure, so plain-http local runs use a plain prefix.
pub(crate) fn session_cookie_name(base_url: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, base_url.as_bytes());
    let tag: String = digest.as_ref().iter().take(4).map(|b| format!("{b:02x}")).collect();
    if base_url.starts_with("https://") {
        format!("__Host-crossfed-session-{tag}")
    } else {
        format!("crossfed-session-{tag}")
    }
}

pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Stores `value` as JSON under `key`: a value that cannot be serialized is an error like a
/// store failure, never an empty record.
pub(crate) async fn insert_json<T: Serialize>(
    store: &Store,
    key: ObjectKey<'_>,
    value: &T,
    now: i64,
) -> Result<(), String> {
    let body = serde_json::to_string(value).map_err(|e| format!("encoding the record: {e}"))?;
    store.insert_object(key, &body, now).await.map_err(|e| e.to_string())
}

pub(crate) fn token() -> String {
    crossfed_random::hex::<32>()
}

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/", get(|| async { see_other("/portal", None) }))
        .route("/login", get(crate::sso::login_get).post(login))
        .route("/logout", post(logout))
        .route("/signed-out", get(crate::logout::signed_out))
        .route("/saml/slo", get(crate::logout::slo))
        .route("/portal", get(portal))
        .route("/apps/{id}/launch", post(launch))
        .route("/saml/apps/{id}/metadata", get(app_metadata))
        .route("/saml/sso", get(crate::sso::sso_redirect).post(crate::sso::sso_post))
        .route("/saml/sso/resume/{id}", get(crate::sso::sso_resume))
        .route("/saml/acs", post(crate::sso::acs))
        .route("/saml/sp/metadata", get(crate::sso::sp_metadata))
        .merge(crate::admin::router())
        .merge(crate::console::router())
        .merge(crate::scim::router())
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(crossfed_web::limit_headers))
        .with_state(hub)
}

pub async fn serve(
    listener: TcpListener,
    hub: Arc<Hub>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(hub)).with_graceful_shutdown(shutdown).await
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fb;color:#1b1f2a}\
header{background:#1d3557;color:#fff;padding:12px 24px;font-weight:600;display:flex;justify-content:space-between}\
main{max-width:720px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:22px}.error{color:#b00020}label{display:block;margin:10px 0}input{font-size:15px;padding:6px;width:100%;box-sizing:border-box}\
button{background:#1d3557;color:#fff;border:0;padding:8px 16px;border-radius:4px;font-size:15px}.app{display:flex;justify-content:space-between;align-items:center;border:1px solid #dde;border-radius:6px;padding:12px;margin:8px 0}\
header form{margin:0}header button{background:#457b9d}";

pub(crate) fn page(status: StatusCode, title: &str, user: Option<&Session>, body: &str) -> Response {
    let account = match user {
        Some(s) => format!(
            "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">{} <button type=\"submit\">Sign out</button></form>",
            escape(&s.csrf),
            escape(&s.user_name)
        ),
        None => String::new(),
    };
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - crossfed</title><style>{STYLE}</style></head>\
<body><header><span>crossfed</span>{account}</header><main>{body}</main></body></html>\n",
        escape(title)
    );
    html(status, document, None, FormTargets::SameOrigin)
}

pub(crate) fn error_page(status: StatusCode, title: &str, message: &str, user: Option<&Session>) -> Response {
    page(
        status,
        title,
        user,
        &format!(
            "<h1>{}</h1><p class=\"error\" id=\"message\">{}</p><p><a href=\"/portal\">Back to the portal</a></p>",
            escape(title),
            escape(message)
        ),
    )
}

/// The session of the request, if it has a live one (idle and absolute limits applied).
pub(crate) async fn current_session(hub: &Hub, headers: &HeaderMap) -> Option<Session> {
    let id = crossfed_web::cookie(headers, hub.cookie_name())?;
    let stored = hub.store.get_object(SESSION_KIND, id).await.ok()??;
    let mut session: Session = serde_json::from_str(&stored.body).ok()?;
    let now = now();
    if now - session.last_seen > hub.idle_seconds || now - session.created > hub.max_seconds {
        let _ = hub.store.delete_object(SESSION_KIND, id).await;
        return None;
    }
    // Record activity at most once a minute, to keep writes down.
    if now - session.last_seen > 60 {
        session.last_seen = now;
        if let Ok(body) = serde_json::to_string(&session) {
            let _ = hub.store.update_object(SESSION_KIND, id, &body, stored.version, now).await;
        }
    }
    Some(session)
}

/// A cross-site request cannot carry the session's CSRF token; browsers that say where a
/// request comes from must also say it is from this site.
pub(crate) fn same_site_request(headers: &HeaderMap, hub: &Hub) -> bool {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => true,
        Some(_) => false,
        None => headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).is_none_or(|o| o == hub.base_url),
    }
}

/// Where to go after sign-in: only paths on this site.
pub(crate) fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(char::is_control) =>
        {
            p
        }
        _ => "/portal",
    }
}

/// The built-in directory's sign-in form.
pub(crate) fn login_form_page(hub: &Hub, next: Option<&str>) -> Response {
    login_form(hub, StatusCode::OK, next, None, None)
}

fn login_form(
    hub: &Hub,
    status: StatusCode,
    next: Option<&str>,
    error: Option<&str>,
    user_name: Option<&str>,
) -> Response {
    // Login CSRF: the form carries a token that must match a cookie set with the form.
    let nonce = token();
    let error = error.map(|e| format!("<p class=\"error\" id=\"error\">{}</p>", escape(e))).unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1>{error}<form method=\"post\" action=\"/login\">\
<input type=\"hidden\" name=\"nonce\" value=\"{nonce}\"><input type=\"hidden\" name=\"next\" value=\"{}\">\
<label>User name <input name=\"user_name\" autocomplete=\"username\" value=\"{}\" required></label>\
<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
<label>Authenticator code (if you use one) <input name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\"></label>\
<p><button type=\"submit\">Sign in</button></p></form>",
        escape(local_path(next)),
        escape(user_name.unwrap_or(""))
    );
    let mut response = page(status, "Sign in", None, &body);
    if let Some(cookie) = set_cookie(&hub.login_nonce_cookie(), &nonce, "/", 600, hub.secure()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
struct LoginForm {
    nonce: String,
    next: Option<String>,
    user_name: String,
    password: String,
    totp: Option<String>,
}

pub(crate) async fn audit(
    hub: &Hub,
    actor: &str,
    action: &str,
    target: Option<&str>,
    outcome: Outcome,
    detail: String,
) {
    let stored = hub.audit_log.append(audit_event(actor, action, target, outcome, detail)).await;
    warn_if_unstored(stored);
}

fn audit_event(actor: &str, action: &str, target: Option<&str>, outcome: Outcome, detail: String) -> AuditEvent {
    let mut event = AuditEvent::new(now(), actor, action, outcome);
    event.target = target.map(str::to_string);
    event.detail = detail;
    event
}

/// A record that could not be stored does not stop the request it records; it is logged.
fn warn_if_unstored(stored: Result<(), String>) {
    if let Err(e) = stored {
        tracing::warn!("audit log write failed: {e}");
    }
}

async fn login(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if crossfed_web::cookie(&headers, &hub.login_nonce_cookie()) != Some(form.nonce.as_str())
        || !same_site_request(&headers, &hub)
    {
        return login_form(
            &hub,
            StatusCode::FORBIDDEN,
            form.next.as_deref(),
            Some("The sign-in form expired or came from another site; try again."),
            None,
        );
    }
    let now = now();
    match authenticate(&hub.store, &form.user_name, &form.password, form.totp.as_deref(), &hub.throttle, now).await {
        Ok(user) => match start_session(&hub, &user, &headers, "built-in directory", None).await {
            Ok(cookie) => see_other(local_path(form.next.as_deref()), cookie),
            Err(page) => page,
        },
        Err(e) => {
            let detail = match &e {
                LoginError::Invalid { reason } => (*reason).to_string(),
                other => other.to_string(),
            };
            audit(&hub, &form.user_name, "login", None, Outcome::Failure, detail).await;
            let status = match e {
                LoginError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
                LoginError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
            login_form(&hub, status, form.next.as_deref(), Some(&e.to_string()), Some(&form.user_name))
        }
    }
}

/// Opens a session for `user` (a new ID at every sign-in: a planted cookie cannot be carried
/// into a session), ends the one the browser had, and returns the cookie to set.
pub(crate) async fn start_session(
    hub: &Hub,
    user: &User,
    headers: &HeaderMap,
    method: &str,
    upstream: Option<crate::logout::UpstreamLogin>,
) -> Result<Option<HeaderValue>, Response> {
    let now = now();
    let session = Session {
        id: token(),
        user_id: user.id.clone(),
        user_name: user.user_name.clone(),
        created: now,
        last_seen: now,
        csrf: token(),
        session_index: format!("_{}", token()),
        upstream,
    };
    let key = ObjectKey { kind: SESSION_KIND, scope: SESSION_SCOPE, name_key: &session.id, id: &session.id };
    if let Err(e) = insert_json(&hub.store, key, &session, now).await {
        return Err(error_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in failed", &e, None));
    }
    if let Some(old) = crossfed_web::cookie(headers, hub.cookie_name()) {
        let _ = hub.store.delete_object(SESSION_KIND, old).await;
    }
    audit(hub, &user.user_name, "login", None, Outcome::Success, method.to_string()).await;
    Ok(set_cookie(hub.cookie_name(), &session.id, "/", hub.max_seconds, hub.secure()))
}

/// Builds and signs the Response for application `id` of `catalog` on a signing thread, which then
/// queues the launch's audit record itself: the request is woken once, when the record is
/// stored. A Response that cannot be built is an error, audited by the caller.
async fn sign_launch(
    hub: &Hub,
    catalog: &Arc<crate::applications::Catalog>,
    id: &str,
    session: &Session,
    in_response_to: Option<&str>,
    values: crate::mapping::UserValues,
) -> Result<crossfed_saml::BuiltResponse, String> {
    let (catalog, id, key) = (catalog.clone(), id.to_string(), hub.keys.signing_key());
    let issuer = hub.app_entity_id(&id);
    let in_response_to = in_response_to.map(str::to_string);
    let (session_index, user_name) = (session.session_index.clone(), session.user_name.clone());
    let authn_instant = Instant::from_unix(session.created).unwrap_or_else(Instant::now);
    let audit_log = hub.audit_log.clone();
    let signed = crate::cpu_pool::signing().run_answering_later(move |reply| {
        let built = catalog.get(&id).ok_or_else(|| format!("application {id:?} is gone")).and_then(|entry| {
            let launch = Launch {
                issuer: &issuer,
                in_response_to: in_response_to.as_deref(),
                authn_instant,
                session_index: &session_index,
            };
            build_launch_response(&entry.app, &launch, &values, &key, Instant::now()).map_err(|e| e.to_string())
        });
        match built {
            Ok(built) => {
                let detail = format!("assertion {}", built.assertion_id);
                let event = audit_event(&user_name, "launch", Some(&id), Outcome::Success, detail);
                audit_log.append_then(event, move |stored| {
                    warn_if_unstored(stored);
                    let _ = reply.send(Ok(built));
                });
            }
            Err(e) => {
                let _ = reply.send(Err(e));
            }
        }
    });
    signed.await.map_err(|e| e.to_string())?
}

/// The signed Response for application `id`, as the auto-submitting form the browser posts;
/// refused with a page when the user is not assigned or lacks a mapped value.
pub(crate) async fn respond_to_application(
    hub: &Hub,
    id: &str,
    session: &Session,
    in_response_to: Option<&str>,
    relay_state: Option<&str>,
) -> Response {
    let catalog = hub.catalog().await;
    let Some(crate::applications::CatalogEntry { app, assignees: assigned, .. }) = catalog.get(id) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "No such application",
            &format!("There is no application {id:?}."),
            Some(session),
        );
    };
    let user = match hub.store.get_user(&session.user_id).await {
        Ok(Some(u)) if u.active => u,
        _ => {
            return error_page(
                StatusCode::FORBIDDEN,
                "Account unavailable",
                "Your account no longer exists or is disabled.",
                None,
            );
        }
    };
    // The groups are read only when they matter: for an assignment through a group, or a
    // mapping that sends them.
    let direct = assigned.users.iter().any(|u| u.eq_ignore_ascii_case(&user.user_name));
    let values = match user_values_with(hub, &user, !direct || app.uses_groups()).await {
        Ok(v) => v,
        Err(e) => return error_page(StatusCode::SERVICE_UNAVAILABLE, "Directory unavailable", &e, Some(session)),
    };
    if !assigned.includes(&user.user_name, &values.groups) {
        audit(hub, &session.user_name, "launch", Some(id), Outcome::Failure, "not assigned".to_string()).await;
        let message = format!("{} is not assigned to you; ask an administrator to assign it.", app.name);
        return error_page(StatusCode::FORBIDDEN, "Not assigned", &message, Some(session));
    }
    let built = match sign_launch(hub, &catalog, id, session, in_response_to, values).await {
        Ok(b) => b,
        Err(e) => {
            audit(hub, &session.user_name, "launch", Some(id), Outcome::Failure, e.to_string()).await;
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Cannot open the application",
                &e.to_string(),
                Some(session),
            );
        }
    };
    let nonce = token();
    let relay = relay_state.or(app.relay_state.as_deref());
    let document = post_form(&app.acs_url, MessageKind::Response, &built.xml, relay, Some(&nonce));
    html(StatusCode::OK, document, Some(&nonce), FormTargets::Anywhere)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    let Some(session) = current_session(&hub, &headers).await else {
        return see_other("/login", set_cookie(hub.cookie_name(), "", "/", 0, hub.secure()));
    };
    // A cross-site form must not be able to sign people out (nor clear their cookie).
    if session.csrf != form.csrf {
        return error_page(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This sign-out did not come from the hub's own page; use its Sign out button.",
            Some(&session),
        );
    }
    let _ = hub.store.delete_object(SESSION_KIND, &session.id).await;
    audit(&hub, &session.user_name, "logout", None, Outcome::Success, String::new()).await;
    let cleared = set_cookie(hub.cookie_name(), "", "/", 0, hub.secure());
    if let Some(upstream) = &session.upstream
        && let Some(url) = crate::logout::upstream_logout_url(&hub, upstream).await
    {
        return see_other(&url, cleared);
    }
    // With an upstream IdP, /login would sign the person straight back in through it.
    let landing = if hub.identity_source.is_some() { "/signed-out" } else { "/login" };
    see_other(landing, cleared)
}

/// Application ids the user may open: assigned by user name or through a group.
fn assigned_apps<'a>(
    catalog: &'a crate::applications::Catalog,
    user: &str,
    groups: &[String],
) -> Vec<(&'a String, &'a Application)> {
    catalog.entries.iter().filter(|(_, e)| e.assignees.includes(user, groups)).map(|(id, e)| (id, &e.app)).collect()
}

async fn portal(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    let Some(session) = current_session(&hub, &headers).await else {
        return see_other("/login?next=/portal", None);
    };
    let groups = match hub.store.groups_of(&session.user_id).await {
        Ok(groups) => groups.into_iter().map(|g| g.display_name).collect::<Vec<_>>(),
        Err(e) => {
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Directory unavailable",
                &e.to_string(),
                Some(&session),
            );
        }
    };
    let catalog = hub.catalog().await;
    let apps = assigned_apps(&catalog, &session.user_name, &groups);
    let mut list = String::new();
    for (id, app) in &apps {
        list.push_str(&format!(
            "<div class=\"app\" id=\"app-{id}\"><span>{}</span><form method=\"post\" action=\"/apps/{id}/launch\">\
<input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Open</button></form></div>",
            escape(&app.name),
            escape(&session.csrf),
            id = escape(id)
        ));
    }
    if apps.is_empty() {
        list.push_str("<p id=\"no-apps\">No applications are assigned to you. Ask an administrator to assign one.</p>");
    }
    page(StatusCode::OK, "Your applications", Some(&session), &format!("<h1>Your applications</h1>{list}"))
}

/// What attribute mappings see of `user`: its fields and group names.
pub async fn user_values(hub: &Hub, user: &User) -> Result<UserValues, String> {
    user_values_with(hub, user, true).await
}

/// [`user_values`], leaving the groups out (empty) unless `with_groups`.
async fn user_values_with(hub: &Hub, user: &User, with_groups: bool) -> Result<UserValues, String> {
    let groups = match with_groups {
        true => hub.store.groups_of(&user.id).await.map_err(|e| e.to_string())?,
        false => Vec::new(),
    };
    Ok(UserValues {
        subject: user.id.clone(),
        user_name: user.user_name.clone(),
        email: user.email().map(str::to_string),
        given_name: user.given_name.clone(),
        family_name: user.family_name.clone(),
        display_name: user.display_name.clone(),
        external_id: user.external_id.clone(),
        groups: groups.into_iter().map(|g| g.display_name).collect(),
        attributes: user.attributes.clone(),
    })
}

async fn launch(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(session) = current_session(&hub, &headers).await else {
        return see_other("/login?next=/portal", None);
    };
    if form.csrf != session.csrf || !same_site_request(&headers, &hub) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Request refused",
            "This request did not come from the portal; open the application from the portal.",
            Some(&session),
        );
    }
    respond_to_application(&hub, &id, &session, None, None).await
}

async fn app_metadata(State(hub): State<Arc<Hub>>, Path(id): Path<String>) -> Response {
    if hub.catalog().await.get(&id).is_none() {
        return (StatusCode::NOT_FOUND, format!("no application {id:?}")).into_response();
    }
    let mut response = app_metadata_xml(&hub, &id).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    response
}

/// The IdP metadata the hub publishes toward application `id`.
pub(crate) fn app_metadata_xml(hub: &Hub, id: &str) -> String {
    let sso = format!("{}/saml/sso", hub.base_url);
    let mut entity = EntityDescriptor::idp(
        hub.app_entity_id(id),
        hub.keys.current().published(),
        vec![crossfed_saml::Endpoint::post(&sso), crossfed_saml::Endpoint::redirect(&sso)],
    );
    if let Some(idp) = entity.idp.as_mut() {
        idp.name_id_formats = vec![ns::NAMEID_EMAIL.to_string(), ns::NAMEID_PERSISTENT.to_string()];
        idp.single_logout_services = vec![crossfed_saml::Endpoint::redirect(format!("{}/saml/slo", hub.base_url))];
    }
    entity.to_xml()
}
