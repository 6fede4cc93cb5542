//! The portal side of the hub: signing in (the built-in directory's form, or a redirect to the
//! upstream IdP), the portal listing the applications a user may open, launches (a signed
//! Response posted by the browser), signing out, and each application's IdP metadata.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossfed_store::GroupStore;
use crossfed_web::see_other;
use serde::Deserialize;

use crate::apps::catalog::Catalog;
use crate::apps::model::Application;
use crate::directory::login::{LoginError, authenticate};
use crate::metrics::SignInMethod;
use crate::records::new_token;
use crate::state::Hub;
use crate::upstream::login::StartError;
use crate::web::extract::{Browser, PortalForm, SignedIn, local_path, same_site_request};
use crate::web::pages::{PortalApp, error_page, launch_answer, leave_for, login_page, portal_page, refused_as};
use crate::web::refusal_audit::{RefusalSubject, refused_subject};

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/", get(|| async { see_other("/portal", None) }))
        .route("/login", get(login_get).post(login))
        .route("/logout", post(logout))
        .route("/portal", get(portal))
        .route("/apps/{id}/launch", post(launch))
        .route("/saml/apps/{id}/metadata", get(app_metadata))
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
    /// Set when an application asked for ForceAuthn: the IdP is asked for a fresh sign-in too.
    force: Option<String>,
}

/// `GET /login`: with an upstream IdP, the browser goes there with a signed AuthnRequest;
/// otherwise the built-in directory's form.
async fn login_get(State(hub): State<Arc<Hub>>, Query(query): Query<NextQuery>, browser: Browser) -> Response {
    let Some(logins) = hub.upstream_logins() else {
        return login_form(&hub, StatusCode::OK, query.next.as_deref(), None, None);
    };
    let next = local_path(query.next.as_deref()).to_string();
    let (key, cookie) = browser.key_or_new(&hub);
    match logins.start(next, query.force.as_deref() == Some("1"), None, &key).await {
        Ok(url) => see_other(&url, cookie),
        Err(e) => upstream_start_failed(&e),
    }
}

/// The page of a sign-in at the upstream IdP that could not start.
pub fn upstream_start_failed(e: &StartError) -> Response {
    match e {
        StartError::Store(_) => {
            error_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e.to_string(), None)
        }
        _ => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Cannot start the sign-in", &e.to_string(), None),
    }
}

/// The built-in directory's sign-in form, with a fresh login-CSRF nonce in the form and in a
/// cookie set with it.
fn login_form(
    hub: &Hub,
    status: StatusCode,
    next: Option<&str>,
    error: Option<&str>,
    user_name: Option<&str>,
) -> Response {
    let nonce = new_token();
    let mut response = login_page(status, &nonce, local_path(next), error, user_name.unwrap_or(""));
    if let Some(cookie) = hub.sessions.cookie(&hub.sessions.login_nonce_cookie(), &nonce, "/", 600) {
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

async fn login(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if crossfed_web::cookie(&headers, &hub.sessions.login_nonce_cookie()) != Some(form.nonce.as_str())
        || !same_site_request(&headers, &hub.base_url)
    {
        return login_form(
            &hub,
            StatusCode::FORBIDDEN,
            form.next.as_deref(),
            Some("The sign-in form expired or came from another site; try again."),
            None,
        );
    }
    let now = hub.clock.unix();
    match authenticate(&hub.store, &form.user_name, &form.password, form.totp.as_deref(), &hub.throttle, now).await {
        Ok(user) => {
            let started = hub.sessions.start(&user, &headers, "built-in directory", None).await;
            hub.metrics.sign_in(SignInMethod::Directory, started.is_ok());
            match started {
                Ok(cookie) => see_other(local_path(form.next.as_deref()), cookie),
                Err(e) => error_page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in failed", &e.to_string(), None),
            }
        }
        Err(e) => {
            hub.metrics.sign_in(SignInMethod::Directory, false);
            let detail = match &e {
                LoginError::Invalid { reason } => (*reason).to_string(),
                other => other.to_string(),
            };
            let (status, kind) = match e {
                LoginError::Locked { .. } => (StatusCode::TOO_MANY_REQUESTS, "login.locked"),
                LoginError::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store.unavailable"),
                _ => (StatusCode::UNAUTHORIZED, "login.invalid"),
            };
            let page = login_form(&hub, status, form.next.as_deref(), Some(&e.to_string()), Some(&form.user_name));
            let subject = RefusalSubject { actor: Some(form.user_name.clone()), target: None, detail };
            refused_subject(refused_as(page, kind), subject)
        }
    }
}

#[derive(Deserialize)]
struct NoFields {}

async fn logout(State(hub): State<Arc<Hub>>, form: PortalForm<NoFields>) -> Response {
    let session = form.session;
    hub.sessions.end(&session, String::new()).await;
    let cleared = hub.sessions.cleared();
    if let Some(upstream) = &session.upstream
        && let Some(url) = hub.upstream_logout_url(upstream).await
    {
        // A page, not a redirect: the portal's form-action allows only the hub itself.
        return leave_for(&url, "Signing out", "Signing you out at your identity provider…", cleared);
    }
    // With an upstream IdP, /login would sign the person straight back in through it.
    let landing = if hub.identity_source.is_some() { "/signed-out" } else { "/login" };
    see_other(landing, cleared)
}

/// Application ids the user may open: assigned by user name or through a group.
fn assigned_apps<'a>(catalog: &'a Catalog, user: &str, groups: &[String]) -> Vec<(&'a String, &'a Application)> {
    catalog.entries.iter().filter(|(_, e)| e.assignees.includes(user, groups)).map(|(id, e)| (id, &e.app)).collect()
}

async fn portal(State(hub): State<Arc<Hub>>, SignedIn(session): SignedIn) -> Response {
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
    let apps: Vec<PortalApp<'_>> = assigned_apps(&catalog, &session.user_name, &groups)
        .into_iter()
        .map(|(id, app)| PortalApp { id, name: &app.name })
        .collect();
    portal_page(&session, &apps)
}

async fn launch(State(hub): State<Arc<Hub>>, Path(id): Path<String>, form: PortalForm<NoFields>) -> Response {
    let result = hub.launcher().respond(&id, &form.session, None, None).await;
    launch_answer(result, &id, &form.session)
}

async fn app_metadata(State(hub): State<Arc<Hub>>, Path(id): Path<String>) -> Response {
    let catalog = hub.catalog().await;
    let Some(entry) = catalog.get(&id) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "No such application",
            &format!("There is no application {id:?}."),
            None,
        );
    };
    let mut response = hub.app_metadata_xml(&id, &entry.app).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"));
    response
}
