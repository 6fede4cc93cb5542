//! The browser side of the account: the sign-in SAML endpoint (`POST /saml`, with the role picker
//! when the assertion grants several roles), the console session, the Connect federate URL used
//! as RelayState, and the agent workspace it lands on.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use crossfed_store::ObjectKey;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::federation::{ConnectSession, FederationError, federate};
use crate::ids;
use crate::model::{ConsoleSession, Credentials, kind};
use crate::pages::error_page;
use crate::state::App;
use crate::sts::{self, ValidatedAssertion};

const CONSOLE_COOKIE: &str = "crossfed_console";
const CONNECT_COOKIE: &str = "crossfed_connect";
/// How long the role picker waits for a choice.
const CHOICE_SECONDS: i64 = 300;

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// A validated assertion waiting for the person to pick a role.
#[derive(Serialize, Deserialize)]
struct PendingChoice {
    id: String,
    accepted: crossfed_saml::Accepted,
    provider: crate::model::SamlProvider,
    roles: Vec<(String, String)>,
    relay_state: Option<String>,
    expires: i64,
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    crossfed_web::cookie(headers, name)
}

fn set_cookie(app: &App, name: &str, value: &str, path: &str, max_age: i64) -> Option<HeaderValue> {
    // Secure whenever the console is served over HTTPS; plain-http loopback runs need it off.
    crossfed_web::set_cookie(name, value, path, max_age, app.settings.base_url.starts_with("https://"))
}

fn redirect(location: &str, cookie: Option<HeaderValue>) -> Response {
    crossfed_web::see_other(location, cookie)
}

fn aws_error_page(e: &AwsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let fix = match e.code {
        "ExpiredTokenException" => {
            "The assertion expired before it reached AWS sign-in: start again at the identity provider, and check that the clocks agree."
        }
        "AccessDenied" => {
            "Check the role's trust policy: its Principal must be the SAML provider, and a SAML:aud condition must list this sign-in URL."
        }
        "InvalidIdentityToken" => {
            "Check the application in the identity provider: ACS URL, audience urn:amazon:webservices, the signing certificate uploaded to the SAML provider, and the Role and RoleSessionName attributes."
        }
        _ => "Start again at the identity provider.",
    };
    error_page(status, "Your request included an invalid SAML response", &format!("{} ({})", e.message, e.code), fix)
}

/// Where RelayState may send the browser: into this console only. Relay states written for the
/// real AWS console (`https://REGION.console.aws.amazon.com/connect/federate/ID…`) are mapped
/// onto this console, so a hub configured for AWS works unchanged.
pub fn relay_target(base_url: &str, relay_state: Option<&str>) -> Result<String, String> {
    let Some(relay) = relay_state.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(format!("{base_url}/console"));
    };
    if relay.chars().any(char::is_control) {
        return Err("RelayState contains control characters".to_string());
    }
    if let Some(path) = relay.strip_prefix(base_url)
        && path.starts_with('/')
        && !path.starts_with("//")
    {
        return Ok(relay.to_string());
    }
    let aws_console = relay
        .strip_prefix("https://")
        .and_then(|rest| rest.split_once('/'))
        .filter(|(host, _)| host.ends_with(".console.aws.amazon.com") || *host == "console.amazonaws-us-gov.com");
    if let Some((_, path)) = aws_console
        && path.starts_with("connect/federate/")
    {
        return Ok(format!("{base_url}/{path}"));
    }
    Err(format!(
        "RelayState {relay:?} points outside this console. Use {base_url}/connect/federate/INSTANCE_ID (optionally with ?destination=%2Fagent-app-v2)."
    ))
}

/// `POST /saml`: the sign-in endpoint.
pub async fn sign_in(State(app): State<Arc<App>>, Form(form): Form<SignInForm>) -> Response {
    let now = app.now();
    let Some(saml) = form.saml_response.filter(|s| !s.is_empty()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No SAML response",
            "This endpoint expects an HTTP POST with a SAMLResponse form field, sent by an identity provider.",
            "Open the application from the identity provider or hub portal instead of this URL.",
        );
    };
    if let Err(why) = relay_target(&app.settings.base_url, form.relay_state.as_deref()) {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Relay state refused",
            &why,
            "Correct the relay state of the application in the hub.",
        );
    }
    let validated = match sts::validate(&app.resources, &app.settings, &saml, None, now).await {
        Ok(v) => v,
        Err(e) => return aws_error_page(&e),
    };
    if validated.roles.len() == 1 {
        let (role, provider) = validated.roles.first().cloned().unwrap_or_default();
        return finish_sign_in(&app, &validated, &role, &provider, form.relay_state.as_deref(), now).await;
    }
    // Several roles: keep the validated assertion (it is already consumed) and ask.
    let choice = PendingChoice {
        id: ids::opaque_token(),
        accepted: validated.accepted.clone(),
        provider: validated.provider.clone(),
        roles: validated.roles.clone(),
        relay_state: form.relay_state.clone(),
        expires: now + CHOICE_SECONDS,
    };
    let key =
        ObjectKey { kind: kind::SIGNIN_CHOICE, scope: &app.settings.account, name_key: &choice.id, id: &choice.id };
    if let Err(e) = app.resources.insert(key, &choice, now).await {
        return aws_error_page(&e);
    }
    let roles = choice.roles.iter().map(|(role, _)| role.as_str()).collect();
    crate::pages::role_picker(&choice.accepted.name_id.value, &app.settings.account, &choice.id, roles)
}

#[derive(Deserialize)]
pub struct RoleForm {
    choice: String,
    role: usize,
}

/// `POST /saml/role`: the role picker's answer.
pub async fn choose_role(State(app): State<Arc<App>>, Form(form): Form<RoleForm>) -> Response {
    let now = app.now();
    let pending = match app.resources.get::<PendingChoice>(kind::SIGNIN_CHOICE, &form.choice).await {
        Ok(Some(p)) => p.value,
        Ok(None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Sign-in expired",
                "This role choice is unknown or was already used.",
                "Start again at the identity provider.",
            );
        }
        Err(e) => return aws_error_page(&e),
    };
    // One use only: whoever deletes the choice takes it; a concurrent second request cannot.
    if app.resources.delete(kind::SIGNIN_CHOICE, &pending.id).await.is_err() {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This role choice was already used.",
            "Start again at the identity provider.",
        );
    }
    if now >= pending.expires {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "The role was not chosen within five minutes.",
            "Start again at the identity provider.",
        );
    }
    let Some((role, provider)) = pending.roles.get(form.role).cloned() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Unknown role",
            "The chosen role is not one the assertion grants.",
            "Start again at the identity provider.",
        );
    };
    let validated = ValidatedAssertion { accepted: pending.accepted, provider: pending.provider, roles: pending.roles };
    finish_sign_in(&app, &validated, &role, &provider, pending.relay_state.as_deref(), now).await
}

async fn finish_sign_in(
    app: &App,
    validated: &ValidatedAssertion,
    role: &str,
    provider: &str,
    relay_state: Option<&str>,
    now: i64,
) -> Response {
    let assumed = match sts::assume_role(&app.resources, validated, role, provider, None, now).await {
        Ok(a) => a,
        Err(e) => return aws_error_page(&e),
    };
    let session = ConsoleSession {
        id: ids::opaque_token(),
        access_key_id: assumed.credentials.access_key_id.clone(),
        expiration: assumed.expiration,
    };
    let key =
        ObjectKey { kind: kind::CONSOLE_SESSION, scope: &app.settings.account, name_key: &session.id, id: &session.id };
    if let Err(e) = app.resources.insert(key, &session, now).await {
        return aws_error_page(&e);
    }
    let target = match relay_target(&app.settings.base_url, relay_state) {
        Ok(t) => t,
        Err(why) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Relay state refused",
                &why,
                "Correct the relay state of the application in the hub.",
            );
        }
    };
    redirect(&target, set_cookie(app, CONSOLE_COOKIE, &session.id, "/", assumed.expiration - now))
}

/// The credentials of the browser's console session, or why there is none.
async fn console_credentials(app: &App, headers: &HeaderMap, now: i64) -> Result<Credentials, Response> {
    let expired = || {
        error_page(
            StatusCode::UNAUTHORIZED,
            "Session expired",
            "There is no signed-in console session in this browser, or it has expired.",
            "Amazon Connect has no sign-in of its own for SAML instances: every login starts at the identity provider or the hub portal, which posts to the sign-in endpoint.",
        )
    };
    let id = cookie_value(headers, CONSOLE_COOKIE).ok_or_else(expired)?;
    let session = match app.resources.get::<ConsoleSession>(kind::CONSOLE_SESSION, id).await {
        Ok(Some(s)) if s.value.expiration > now => s.value,
        Ok(_) => return Err(expired()),
        Err(e) => return Err(aws_error_page(&e)),
    };
    match app.resources.get::<Credentials>(kind::CREDENTIALS, &session.access_key_id).await {
        Ok(Some(c)) => Ok(c.value),
        Ok(None) => Err(expired()),
        Err(e) => Err(aws_error_page(&e)),
    }
}

/// `GET /console`: who is signed in.
pub async fn console_home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let now = app.now();
    match console_credentials(&app, &headers, now).await {
        Ok(c) => {
            let ends = crate::aws_xml::iso8601(c.expiration.unwrap_or(now));
            crate::pages::console_home(&c.principal.arn(), c.principal.account(), &ends)
        }
        Err(page) => page,
    }
}

#[derive(Deserialize)]
pub struct FederateQuery {
    destination: Option<String>,
}

fn federation_error_page(e: &FederationError) -> Response {
    let (status, title) = match e {
        FederationError::NoSuchUser { .. } => (StatusCode::FORBIDDEN, "No Amazon Connect user"),
        FederationError::NotAllowed { .. } => (StatusCode::FORBIDDEN, "Federation not allowed by the role's policy"),
        FederationError::NotSaml { .. } => (StatusCode::BAD_REQUEST, "Instance not in SAML mode"),
        FederationError::InstanceNotFound { .. } => (StatusCode::NOT_FOUND, "No such Amazon Connect instance"),
        FederationError::NotAnAssumedRole { .. } => (StatusCode::BAD_REQUEST, "Not a federated session"),
        FederationError::OtherRole { .. } => (StatusCode::CONFLICT, "Connect user bound to another role"),
        FederationError::Store(e) => return aws_error_page(e),
    };
    error_page(
        status,
        title,
        &e.message(),
        "The message above names the fix; the hub's crossfed check walks the whole chain.",
    )
}

/// Only paths inside the instance: a destination cannot leave it.
fn destination_path(destination: Option<&str>) -> &str {
    match destination {
        Some(d)
            if d.starts_with('/') && !d.starts_with("//") && !d.contains('\\') && !d.chars().any(char::is_control) =>
        {
            d
        }
        _ => "/agent-app-v2",
    }
}

/// `GET /connect/federate/{instance}`: the relay state of the Connect application.
pub async fn federate_url(
    State(app): State<Arc<App>>,
    Path(instance_id): Path<String>,
    Query(query): Query<FederateQuery>,
    headers: HeaderMap,
) -> Response {
    let now = app.now();
    let credentials = match console_credentials(&app, &headers, now).await {
        Ok(c) => c,
        Err(page) => return page,
    };
    match federate(&app.resources, &app.settings.region, &credentials, &instance_id, now).await {
        Ok(grant) => {
            let target = format!(
                "{}/connect/{}{}",
                app.settings.base_url,
                grant.instance.id,
                destination_path(query.destination.as_deref())
            );
            let path = format!("/connect/{}", grant.instance.id);
            redirect(
                &target,
                set_cookie(&app, CONNECT_COOKIE, &grant.session.token, &path, grant.session.expiration - now),
            )
        }
        Err(e) => federation_error_page(&e),
    }
}

#[derive(Deserialize)]
pub struct SignInUrlQuery {
    token: String,
}

/// `GET /connect/{instance}/sign-in?token=…`: the SignInUrl GetFederationToken returns, usable
/// once and for a few minutes.
pub async fn connect_sign_in(
    State(app): State<Arc<App>>,
    Path(instance_id): Path<String>,
    Query(query): Query<SignInUrlQuery>,
) -> Response {
    let now = app.now();
    match crate::federation::redeem_sign_in_link(&app.resources, &instance_id, &query.token, now).await {
        Ok(Some(session)) => {
            let path = format!("/connect/{instance_id}");
            let cookie = set_cookie(&app, CONNECT_COOKIE, &session.token, &path, session.expiration - now);
            redirect(&format!("{}/connect/{instance_id}/agent-app-v2", app.settings.base_url), cookie)
        }
        Ok(None) => connect_session_expired(),
        Err(e) => aws_error_page(&e),
    }
}

fn connect_session_expired() -> Response {
    error_page(
        StatusCode::UNAUTHORIZED,
        "Session expired",
        "You are not signed in to this Amazon Connect instance.",
        "This instance uses SAML 2.0-based authentication: open Amazon Connect from the hub portal (or your identity provider), which signs you in through AWS.",
    )
}

/// `GET /connect/{instance}/{page…}`: the agent workspace.
pub async fn agent_workspace(
    State(app): State<Arc<App>>,
    Path((instance_id, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let now = app.now();
    let Some(token) = cookie_value(&headers, CONNECT_COOKIE) else {
        return connect_session_expired();
    };
    let session = match app.resources.get::<ConnectSession>(kind::CONNECT_SESSION, token).await {
        Ok(Some(s)) if s.value.instance_id == instance_id && s.value.expiration > now => s.value,
        _ => return connect_session_expired(),
    };
    let instance =
        app.resources.get::<crate::model::ConnectInstance>(kind::CONNECT_INSTANCE, &instance_id).await.ok().flatten();
    let alias = instance.and_then(|i| i.value.instance_alias).unwrap_or_default();
    crate::pages::agent_workspace(&session.username, &alias, &instance_id, &rest)
}

#[cfg(test)]
mod tests {
    use super::{destination_path, relay_target};

    const BASE: &str = "http://127.0.0.1:9443";

    #[test]
    fn relay_state_stays_in_this_console() {
        assert_eq!(relay_target(BASE, None).unwrap(), "http://127.0.0.1:9443/console");
        assert_eq!(
            relay_target(BASE, Some("http://127.0.0.1:9443/connect/federate/abc?destination=%2Fccp-v2")).unwrap(),
            "http://127.0.0.1:9443/connect/federate/abc?destination=%2Fccp-v2"
        );
        assert_eq!(
            relay_target(
                BASE,
                Some("https://us-east-1.console.aws.amazon.com/connect/federate/abc?destination=%2Fagent-app-v2")
            )
            .unwrap(),
            "http://127.0.0.1:9443/connect/federate/abc?destination=%2Fagent-app-v2"
        );
        for bad in [
            "https://evil.example.com/",
            "http://127.0.0.1:9443.evil.com/x",
            "http://127.0.0.1:9443//evil.com",
            "https://us-east-1.console.aws.amazon.com/iam/home",
            "https://evil.com/.console.aws.amazon.com/connect/federate/x",
            "javascript:alert(1)",
            "http://127.0.0.1:9443/x\r\nSet-Cookie: a=b",
        ] {
            assert!(relay_target(BASE, Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn destinations_stay_in_the_instance() {
        assert_eq!(destination_path(Some("/ccp-v2/chat")), "/ccp-v2/chat");
        assert_eq!(destination_path(Some("//evil.com")), "/agent-app-v2");
        assert_eq!(destination_path(Some("https://evil.com")), "/agent-app-v2");
        assert_eq!(destination_path(None), "/agent-app-v2");
    }
}
