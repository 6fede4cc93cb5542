//! The admin console at `/admin`: server-rendered pages over the same operations as the admin
//! API (they share its functions), working without JavaScript. Signing in takes an admin token —
//! the file `crossfed serve` writes at first start, or one made with the API — and opens a
//! console session in the store that ends when the token is revoked or expires. Every form
//! carries the session's CSRF token and must come from the hub's own pages ([`guard`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use crossfed_store::{
    AuditLog, AuditQuery, GroupStore, NewUser, Outcome, Page, PrincipalKind, ProvisioningStore, SyncState, UserStore,
};
use crossfed_web::{FormTargets, escape, html, see_other};
use serde::Deserialize;

mod add_application;
mod checks;
mod groups;
mod guard;
mod keys;
mod mappings;

use crate::records::new_token;
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::web::error::ApiError;
use crate::web::extract::same_site_request;
use guard::{Console, ConsoleForm};

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/login", get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/applications", get(applications).post(add_application::create))
        .route("/admin/applications/{id}", get(application))
        .route("/admin/applications/{id}/preview", post(preview))
        .route("/admin/applications/{id}/mappings", post(mappings::post))
        .route("/admin/applications/{id}/assignments", post(change_assignment))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/groups", get(groups::page).post(groups::create))
        .route("/admin/groups/members", post(groups::members))
        .route("/admin/provisioning", get(provisioning))
        .route("/admin/provisioning/sync", post(sync))
        .route("/admin/audit", get(audit_log))
        .route("/admin/checks", get(checks::page))
        .route("/admin/checks/simulate", post(checks::simulate))
        .route("/admin/keys", get(keys::page))
        .route("/admin/keys/stage", post(keys::stage))
        .route("/admin/keys/activate", post(keys::activate))
        .route("/admin/identity-source", get(identity_source))
        .route("/admin/identity-source/metadata", post(upload_metadata))
        .route("/admin/identity-source/test", post(start_test_login))
        .route("/admin/identity-source/test/{id}", get(test_login_result))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fb;color:#1b1f2a}\
header{background:#14213d;color:#fff;padding:10px 24px;display:flex;gap:18px;align-items:center}\
header a{color:#e5e5e5;text-decoration:none}header a.here{color:#fff;font-weight:600}header form{margin-left:auto}\
main{max-width:1000px;margin:24px auto;background:#fff;padding:20px 28px;border-radius:8px;box-shadow:0 1px 3px #0002}\
table{border-collapse:collapse;width:100%;margin:8px 0 16px}td,th{border-bottom:1px solid #e3e6ee;padding:6px 8px;text-align:left;vertical-align:top}\
th{background:#f0f2f8}.error{color:#b00020}.warn{color:#9a5b00}.ok{color:#1b7a2e}code{background:#f0f2f8;padding:1px 4px;border-radius:3px;word-break:break-all}\
input,select{font-size:14px;padding:4px}button{background:#14213d;color:#fff;border:0;padding:6px 12px;border-radius:4px}\
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #dde;border-radius:6px;padding:10px 14px;min-width:150px}";

const SECTIONS: [(&str, &str); 9] = [
    ("/admin", "Overview"),
    ("/admin/identity-source", "Identity source"),
    ("/admin/applications", "Applications"),
    ("/admin/users", "Users"),
    ("/admin/groups", "Groups"),
    ("/admin/provisioning", "Provisioning"),
    ("/admin/audit", "Audit log"),
    ("/admin/keys", "Keys"),
    ("/admin/checks", "Checks"),
];

/// A console page: the navigation, then `body`; its forms post to the hub only.
fn page(status: StatusCode, here: &str, title: &str, session: Option<&ConsoleSession>, body: &str) -> Response {
    page_with_forms(status, here, title, session, body, FormTargets::SameOrigin)
}

/// A console page whose forms may end at another site (the test sign-in is redirected to the
/// IdP, and browsers apply `form-action` to where a form's redirects lead).
fn page_with_forms(
    status: StatusCode,
    here: &str,
    title: &str,
    session: Option<&ConsoleSession>,
    body: &str,
    forms: FormTargets,
) -> Response {
    render(status, here, title, session, body, forms, None)
}

/// A console page with a script of its own (an enhancement: the page works without it).
fn page_with_script(
    status: StatusCode,
    here: &str,
    title: &str,
    session: Option<&ConsoleSession>,
    body: &str,
    script: &str,
) -> Response {
    render(status, here, title, session, body, FormTargets::SameOrigin, Some(script))
}

fn render(
    status: StatusCode,
    here: &str,
    title: &str,
    session: Option<&ConsoleSession>,
    body: &str,
    forms: FormTargets,
    script: Option<&str>,
) -> Response {
    let nav: String = match session {
        Some(s) => {
            let links: String = SECTIONS
                .iter()
                .map(|(path, name)| {
                    let class = if *path == here { " class=\"here\"" } else { "" };
                    format!("<a href=\"{path}\"{class}>{name}</a>")
                })
                .collect();
            format!(
                "{links}<form method=\"post\" action=\"/admin/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<span>{}</span> <button type=\"submit\">Sign out</button></form>",
                escape(&s.csrf),
                escape(&s.token_name)
            )
        }
        None => String::new(),
    };
    let nonce = script.map(|_| new_token());
    let script = match (script, &nonce) {
        (Some(code), Some(nonce)) => format!("<script nonce=\"{nonce}\">{code}</script>"),
        _ => String::new(),
    };
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - crossfed admin</title><style>{STYLE}</style></head>\
<body><header><strong>crossfed admin</strong>{nav}</header><main><h1>{}</h1>{body}</main>{script}</body></html>\n",
        escape(title),
        escape(title)
    );
    html(status, document, nonce.as_deref(), forms)
}

fn message(class: &str, text: &str) -> String {
    format!("<p class=\"{class}\" id=\"message\">{}</p>", escape(text))
}

fn api_error_page(session: &ConsoleSession, here: &str, title: &str, e: &ApiError) -> Response {
    page(e.status, here, title, Some(session), &message("error", &e.message))
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let error = error.map(|e| message("error", e)).unwrap_or_default();
    page(
        status,
        "",
        "Sign in to the admin console",
        None,
        &format!(
            "{error}<form method=\"post\" action=\"/admin/login\"><label>Admin token <input type=\"password\" name=\"token\" \
autocomplete=\"off\" size=\"60\" autofocus></label> <button type=\"submit\">Sign in</button></form>\
<p>The hub wrote its first admin token to <code>DATA_DIR/admin-token</code> at first start; \
<code>POST /api/v1/admin-tokens</code> makes more.</p>"
        ),
    )
}

async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if !same_site_request(&headers, &hub.base_url) {
        return login_page(StatusCode::FORBIDDEN, Some("This sign-in did not come from the console's own page."));
    }
    let mut bearer = HeaderMap::new();
    let Ok(value) = format!("Bearer {}", form.token.trim()).parse() else {
        return login_page(StatusCode::UNAUTHORIZED, Some("That is not an admin token."));
    };
    bearer.insert(axum::http::header::AUTHORIZATION, value);
    let admin = match crate::tokens::authenticate(&hub.store, &bearer, crate::tokens::ADMIN, hub.clock.unix()).await {
        Ok(t) => t,
        Err(e) => {
            hub.audit.record("console", "console.login", None, Outcome::Failure, e.to_string()).await;
            return login_page(StatusCode::UNAUTHORIZED, Some(&e.to_string()));
        }
    };
    match hub.sessions.start_console(&admin, crate::tokens::digest(form.token.trim())).await {
        Ok((_, cookie)) => see_other("/admin", cookie),
        Err(e) => login_page(StatusCode::SERVICE_UNAVAILABLE, Some(&e.to_string())),
    }
}

/// A form with nothing but its CSRF token (checked by [`ConsoleForm`]).
#[derive(Deserialize)]
struct NoFields {}

async fn logout(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    see_other("/admin/login", hub.sessions.end_console(&form.session).await)
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()))
        .unwrap_or_else(|_| unix.to_string())
}

/// A certificate's expiry at `now`, with a warning within 30 days.
fn expiry(not_after: i64, now: i64) -> String {
    let left = not_after - now;
    let class = if left < 0 {
        "error"
    } else if left < 30 * 86_400 {
        "warn"
    } else {
        "ok"
    };
    let note = if left < 0 { " (expired)".to_string() } else { format!(" ({} days)", left / 86_400) };
    format!("<span class=\"{class}\">{}{note}</span>", escape(&date(not_after)))
}

async fn overview(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    let now = hub.clock.unix();
    let catalog = hub.catalog().await;
    let users = hub.store.list_users(Page { offset: 0, limit: 1 }).await.map(|(_, n)| n).unwrap_or(0);
    let groups = hub.store.list_groups(Page { offset: 0, limit: 1 }).await.map(|(_, n)| n).unwrap_or(0);
    let records = hub.store.list_provisioning(None).await.unwrap_or_default();
    let failed = records.iter().filter(|r| r.state == SyncState::Failed).count();
    let card = |label: &str, value: String, link: &str| {
        format!("<a class=\"card\" href=\"{link}\"><div>{label}</div><strong>{value}</strong></a>")
    };
    let mut body = format!(
        "<div class=\"cards\">{}{}{}{}</div>",
        card("Applications", catalog.entries.len().to_string(), "/admin/applications"),
        card("Users", users.to_string(), "/admin/users"),
        card("Groups", groups.to_string(), "/admin/users"),
        card("Provisioning failures", failed.to_string(), "/admin/provisioning"),
    );
    for (id, reason) in &catalog.broken {
        body.push_str(&message("error", &format!("Application {id} cannot be launched: {reason}")));
    }
    body.push_str("<h2>Identity source</h2>");
    match &hub.identity_source {
        Some(source) => {
            let idp = source.idp();
            let soonest = idp.idp.as_ref().and_then(|d| d.signing_certificates.iter().map(|c| c.not_after()).min());
            body.push_str(&format!(
                "<p>People sign in at <code>{}</code> (its signing certificate: {}); details and a test sign-in on the \
<a href=\"/admin/identity-source\">identity source</a> page.</p>",
                escape(&idp.entity_id),
                soonest.map(|t| expiry(t, now)).unwrap_or_else(|| "none".to_string())
            ));
        }
        None => body.push_str("<p>People sign in with the hub's built-in directory (passwords and TOTP).</p>"),
    }
    body.push_str(&format!(
        "<h2>Signing key</h2><p>{} — {}</p>",
        escape(hub.keys.signing_key().certificate().subject()),
        expiry(hub.keys.signing_key().certificate().not_after(), now)
    ));
    page(StatusCode::OK, "/admin", "Overview", Some(&session), &body)
}

async fn applications(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    applications_page(&hub, &session, StatusCode::OK, "").await
}

/// A path segment for an ID the store accepted (letters, digits and a few marks).
pub(crate) fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn applications_page(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: &str) -> Response {
    let catalog = hub.catalog().await;
    let mut rows = String::new();
    for (id, entry) in &catalog.entries {
        let assigned: Vec<String> =
            entry.assignments.iter().map(|a| format!("{} {}", a.kind.as_str(), a.name)).collect();
        rows.push_str(&format!(
            "<tr id=\"app-{id}\"><td><a href=\"/admin/applications/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&entry.app.name),
            escape(&entry.stored.template),
            if entry.stored.managed_by == crossfed_store::ManagedBy::Config { "configuration file" } else { "admin API / console" },
            escape(&assigned.join(", ")),
            id = escape(id)
        ));
    }
    let body = format!(
        "{notice}<table><tr><th>ID</th><th>Name</th><th>Template</th><th>Managed by</th><th>Assigned</th></tr>{rows}</table>{}\
<p>The same from a shell: <code>crossfed apps add --template amazon-connect|aws-account|custom</code>, or \
<code>POST /api/v1/applications</code>.</p>",
        add_application::form(&session.csrf)
    );
    page(status, "/admin/applications", "Applications", Some(session), &body)
}

/// The application page, with the outcome of a preview or a change above it.
async fn application_page(
    hub: &Hub,
    session: &ConsoleSession,
    id: &str,
    status: StatusCode,
    notice: &str,
    preview: &str,
    draft: Option<&mappings::Draft>,
) -> Response {
    let catalog = hub.catalog().await;
    let Some(entry) = catalog.get(id) else {
        return page(
            StatusCode::NOT_FOUND,
            "/admin/applications",
            "No such application",
            Some(session),
            &message("error", &format!("There is no application {id:?}.")),
        );
    };
    let app = &entry.app;
    let mut mappings = format!(
        "<tr><td>NameID ({})</td><td><code>{}</code></td></tr>",
        escape(&app.name_id_format),
        escape(app.name_id.source())
    );
    for attribute in &app.attributes {
        mappings.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            escape(&attribute.name),
            escape(attribute.template.source())
        ));
    }
    let csrf = escape(&session.csrf);
    let mut assignments = String::new();
    for a in &entry.assignments {
        let remove = if a.managed_by == crossfed_store::ManagedBy::Config {
            "<em>configuration file</em>".to_string()
        } else {
            format!(
                "<form method=\"post\" action=\"/admin/applications/{id}/assignments\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"kind\" value=\"{}\"><input type=\"hidden\" name=\"name\" value=\"{}\">\
<input type=\"hidden\" name=\"change\" value=\"remove\"><button type=\"submit\">Remove</button></form>",
                a.kind.as_str(),
                escape(&a.name),
                id = escape(id)
            )
        };
        assignments.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{remove}</td></tr>",
            a.kind.as_str(),
            escape(&a.name)
        ));
    }
    let body = format!(
        "{notice}<table><tr><th>Template</th><td>{}</td></tr><tr><th>Assertions go to</th><td><code>{}</code></td></tr>\
<tr><th>Audience</th><td><code>{}</code></td></tr><tr><th>Relay state</th><td><code>{}</code></td></tr>\
<tr><th>Hub entity ID</th><td><code>{}</code> — <a href=\"/saml/apps/{id}/metadata\">IdP metadata</a></td></tr></table>\
<h2>Attribute mappings</h2><table><tr><th>Sent as</th><th>Template</th></tr>{mappings}</table>{editor}\
<h2>Preview</h2><form method=\"post\" action=\"/admin/applications/{id}/preview\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label>User <input name=\"user\" required></label> <button type=\"submit\">Show what the application receives</button></form>{preview}\
<h2>Assignments</h2><table><tr><th>Kind</th><th>Name</th><th></th></tr>{assignments}</table>\
<form method=\"post\" action=\"/admin/applications/{id}/assignments\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"change\" value=\"add\"><select name=\"kind\"><option value=\"user\">user</option><option value=\"group\">group</option></select> \
<input name=\"name\" required placeholder=\"name\"> <button type=\"submit\">Assign</button></form>",
        escape(&entry.stored.template),
        escape(&app.acs_url),
        escape(&app.audience),
        escape(app.relay_state.as_deref().unwrap_or("(none)")),
        escape(&hub.app_entity_id(id)),
        id = escape(id),
        editor = mappings::editor(id, entry, &session.csrf, draft),
    );
    let title = format!("{} ({id})", app.name);
    if mappings::editable(entry) {
        return page_with_script(status, "/admin/applications", &title, Some(session), &body, mappings::LIVE_PREVIEW);
    }
    page(status, "/admin/applications", &title, Some(session), &body)
}

async fn application(State(hub): State<Arc<Hub>>, Console(session): Console, Path(id): Path<String>) -> Response {
    application_page(&hub, &session, &id, StatusCode::OK, "", "", None).await
}

#[derive(Deserialize)]
struct PreviewForm {
    user: String,
}

/// What a user would receive, as a table; `label` says whose mappings when it is a draft.
fn preview_table(p: &crate::views::Preview, label: &str) -> String {
    let mut rows =
        format!("<tr><td>NameID</td><td><code>{}</code></td></tr>", escape(p.name_id.as_deref().unwrap_or("(none)")));
    for a in &p.attributes {
        rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            escape(&a.name),
            escape(&a.values.join(" | "))
        ));
    }
    let mut notes = String::new();
    if !p.assigned {
        notes.push_str(&message("warn", &format!("{} is not assigned: a launch would be refused.", p.user)));
    }
    if !p.active {
        notes.push_str(&message("warn", &format!("{} is disabled.", p.user)));
    }
    if let Some(e) = &p.error {
        notes.push_str(&message("error", e));
    }
    let label = if label.is_empty() { String::new() } else { format!("{label} — ") };
    format!("<div id=\"preview\"><p>{}For {}:</p>{notes}<table>{rows}</table></div>", escape(&label), escape(&p.user))
}

async fn preview(State(hub): State<Arc<Hub>>, Path(id): Path<String>, posted: ConsoleForm<PreviewForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    match hub.apps().preview(&id, form.user.trim()).await {
        Ok(p) => {
            let preview = preview_table(&p, "");
            application_page(&hub, &session, &id, StatusCode::OK, "", &preview, None).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            application_page(&hub, &session, &id, e.status, &message("error", &e.message), "", None).await
        }
    }
}

#[derive(Deserialize)]
struct AssignmentForm {
    kind: String,
    name: String,
    change: String,
}

async fn change_assignment(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    posted: ConsoleForm<AssignmentForm>,
) -> Response {
    let ConsoleForm { session, form } = posted;
    let kind = if form.kind == "group" { PrincipalKind::Group } else { PrincipalKind::User };
    let add = form.change != "remove";
    let name = form.name.trim();
    match hub.apps().change_assignment(&session.actor(), &id, kind, name, add).await {
        Ok(_) => {
            let done = if add { "assigned" } else { "no longer assigned" };
            let notice = message("ok", &format!("{} {name} is {done}.", kind.as_str()));
            application_page(&hub, &session, &id, StatusCode::OK, &notice, "", None).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            application_page(&hub, &session, &id, e.status, &message("error", &e.message), "", None).await
        }
    }
}

async fn users_page(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: &str) -> Response {
    let (users, total) = match hub.store.list_users(Page { offset: 0, limit: 500 }).await {
        Ok(u) => u,
        Err(e) => return api_error_page(session, "/admin/users", "Users", &e.into()),
    };
    // Every membership in one read, not one query per user.
    let memberships = hub.store.group_names_by_user().await.unwrap_or_default();
    let mut rows = String::new();
    for user in users {
        let groups: Vec<&str> =
            memberships.iter().filter(|(id, _)| *id == user.id).map(|(_, group)| group.as_str()).collect();
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&user.user_name),
            escape(user.email().unwrap_or("")),
            if user.active { "active" } else { "<span class=\"warn\">disabled</span>" },
            escape(&groups.join(", "))
        ));
    }
    let body = format!(
        "{notice}<p>{total} users.</p><table><tr><th>User name</th><th>E-mail</th><th>State</th><th>Groups</th></tr>{rows}</table>\
<h2>Add a user</h2><form method=\"post\" action=\"/admin/users\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<input name=\"user_name\" required placeholder=\"user name\"> <input name=\"email\" type=\"email\" placeholder=\"e-mail\"> \
<input name=\"password\" type=\"password\" placeholder=\"password (optional)\" autocomplete=\"new-password\"> <button type=\"submit\">Add</button></form>",
        escape(&session.csrf)
    );
    page(status, "/admin/users", "Users", Some(session), &body)
}

async fn users(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    users_page(&hub, &session, StatusCode::OK, "").await
}

#[derive(Deserialize)]
struct UserForm {
    user_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn create_user(State(hub): State<Arc<Hub>>, posted: ConsoleForm<UserForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
    let email = form.email.trim();
    let new = NewUser {
        user_name: form.user_name.trim().to_string(),
        emails: if email.is_empty() { Vec::new() } else { vec![crossfed_store::Email::work(email)] },
        active: true,
        ..NewUser::default()
    };
    match hub.directory.create_user(&session.actor(), &new, password).await {
        Ok(user) => {
            users_page(&hub, &session, StatusCode::OK, &message("ok", &format!("Added {}.", user.user_name))).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            users_page(&hub, &session, e.status, &message("error", &e.message)).await
        }
    }
}

async fn provisioning_page(hub: &Hub, session: &ConsoleSession, notice: &str) -> Response {
    let records = hub.store.list_provisioning(None).await.unwrap_or_default();
    let mut rows = String::new();
    for r in &records {
        let class = match r.state {
            SyncState::Failed => "error",
            SyncState::InSync => "ok",
            _ => "",
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&r.connector),
            escape(&r.subject_name),
            r.state.as_str(),
            escape(&r.detail),
            escape(&date(r.updated_at))
        ));
    }
    let connectors = hub.provisioning.connector_names().await;
    let body = format!(
        "{notice}<p>Connectors: {}.</p><form method=\"post\" action=\"/admin/provisioning/sync\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<button type=\"submit\">Run a pass now</button></form>\
<table><tr><th>Connector</th><th>Subject</th><th>State</th><th>Detail</th><th>Updated</th></tr>{rows}</table>",
        if connectors.is_empty() { "none".to_string() } else { escape(&connectors.join(", ")) },
        escape(&session.csrf)
    );
    page(StatusCode::OK, "/admin/provisioning", "Provisioning", Some(session), &body)
}

async fn provisioning(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    provisioning_page(&hub, &session, "").await
}

async fn sync(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    let session = form.session;
    hub.audit.record(&session.actor(), "provisioning.sync", None, Outcome::Success, String::new()).await;
    hub.provisioning.run_once().await;
    provisioning_page(&hub, &session, &message("ok", "A provisioning pass ran.")).await
}

#[derive(Deserialize)]
struct AuditFilter {
    actor: Option<String>,
    action: Option<String>,
}

async fn audit_log(
    State(hub): State<Arc<Hub>>,
    Console(session): Console,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let actor = filter.actor.filter(|a| !a.is_empty());
    let action = filter.action.filter(|a| !a.is_empty());
    let query = AuditQuery { actor: actor.clone(), action: action.clone(), since: None, until: None, limit: Some(200) };
    let events = match hub.store.query(&query).await {
        Ok(e) => e,
        Err(e) => return api_error_page(&session, "/admin/audit", "Audit log", &e.into()),
    };
    let mut rows = String::new();
    for e in &events {
        let class = if e.outcome == Outcome::Success { "ok" } else { "error" };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{}</td></tr>",
            escape(&date(e.at)),
            escape(&e.actor),
            escape(&e.action),
            escape(e.target.as_deref().unwrap_or("")),
            if e.outcome == Outcome::Success { "success" } else { "failure" },
            escape(&e.detail)
        ));
    }
    let body = format!(
        "<form method=\"get\" action=\"/admin/audit\"><input name=\"actor\" placeholder=\"actor\" value=\"{}\"> \
<input name=\"action\" placeholder=\"action, such as launch\" value=\"{}\"> <button type=\"submit\">Filter</button></form>\
<p>{} events, newest first.</p><table><tr><th>When (UTC)</th><th>Who</th><th>What</th><th>Target</th><th>Outcome</th><th>Detail</th></tr>{rows}</table>",
        escape(actor.as_deref().unwrap_or("")),
        escape(action.as_deref().unwrap_or("")),
        events.len()
    );
    page(StatusCode::OK, "/admin/audit", "Audit log", Some(&session), &body)
}

async fn identity_source(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    identity_source_page(&hub, &session, StatusCode::OK, "")
}

#[derive(Deserialize)]
struct MetadataForm {
    metadata: String,
}

/// Step 2 of the wizard: the IdP's metadata, pasted.
async fn upload_metadata(State(hub): State<Arc<Hub>>, posted: ConsoleForm<MetadataForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let Some(metadata) = hub.idp_metadata() else {
        let text =
            "this hub signs people in with its built-in directory; add [identity_source] to its configuration first";
        return identity_source_page(&hub, &session, StatusCode::BAD_REQUEST, &message("error", text));
    };
    match metadata.upload(form.metadata.trim().as_bytes(), &session.actor()).await {
        Ok(entity_id) => {
            let notice =
                message("ok", &format!("The hub trusts {entity_id} from now on. Run a test sign-in to see it work."));
            identity_source_page(&hub, &session, StatusCode::OK, &notice)
        }
        Err(e) => identity_source_page(&hub, &session, StatusCode::BAD_REQUEST, &message("error", &e.to_string())),
    }
}

fn identity_source_page(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: &str) -> Response {
    let now = hub.clock.unix();
    let Some(source) = &hub.identity_source else {
        let body = message(
            "",
            "People sign in with the hub's built-in directory. To trust a corporate IdP instead, add [identity_source] with its metadata_url or metadata_file to the configuration and restart.",
        );
        return page(StatusCode::OK, "/admin/identity-source", "Identity source", Some(session), &body);
    };
    let idp = source.idp();
    let refreshed_from_url = source.refresh.as_ref().and_then(|r| r.url.as_deref());
    let upload_note = match refreshed_from_url {
        Some(url) => format!(
            "<p class=\"warn\">The configuration refreshes this metadata from <code>{}</code>: an upload is replaced at the next refresh.</p>",
            escape(url)
        ),
        None => String::new(),
    };
    let certificates: String = idp
        .idp
        .as_ref()
        .map(|d| {
            d.signing_certificates
                .iter()
                .map(|c| {
                    format!(
                        "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                        escape(c.subject()),
                        escape(&c.fingerprint_hex()),
                        expiry(c.not_after(), now)
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let valid_until = idp.valid_until.map(|t| expiry(t.unix(), now)).unwrap_or_else(|| "not limited".to_string());
    let body = format!(
        "<h2>1. Give the IdP the hub's SP metadata</h2><p><a href=\"/saml/sp/metadata\">Download the SP metadata</a>: entity ID <code>{}</code>, assertion consumer service <code>{}</code>, single logout <code>{}</code>.</p><h2>2. The IdP's metadata the hub trusts</h2><p>Entity ID <code>{}</code>; metadata valid until {valid_until}; provisioning: {}; IdP-initiated sign-in {}.</p><table><tr><th>Signing certificate</th><th>SHA-256</th><th>Valid until</th></tr>{certificates}</table>\
<h3>Upload the IdP's metadata</h3>{upload_note}<form method=\"post\" action=\"/admin/identity-source/metadata\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<textarea name=\"metadata\" rows=\"6\" cols=\"100\" required placeholder=\"&lt;EntityDescriptor …&gt; from the IdP (Entra ID: Federation Metadata XML)\"></textarea><br>\
<button type=\"submit\">Trust this metadata</button></form><h2>3. Test a sign-in</h2><p>Signs in at the IdP and shows what it sends, without signing anyone in to the hub.</p><form method=\"post\" action=\"/admin/identity-source/test\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\">Run a test sign-in</button></form>",
        escape(&source.sp_entity_id),
        escape(&source.acs_url),
        escape(&crate::upstream::slo_url_beside(&source.acs_url)),
        escape(&idp.entity_id),
        match source.provisioning {
            crate::upstream::Provisioning::JustInTime => "users are created at first sign-in",
            crate::upstream::Provisioning::Required => "users must be provisioned first (SCIM or the admin API)",
        },
        if source.allow_idp_initiated { "allowed" } else { "refused" },
        csrf = escape(&session.csrf)
    );
    page_with_forms(
        status,
        "/admin/identity-source",
        "Identity source",
        Some(session),
        &format!("{notice}{body}"),
        FormTargets::Anywhere,
    )
}

async fn start_test_login(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    let Some(logins) = hub.upstream_logins() else {
        let text = "This hub has no upstream identity provider.";
        return page(
            StatusCode::NOT_FOUND,
            "/admin/identity-source",
            "No identity source",
            Some(&form.session),
            &message("error", text),
        );
    };
    match logins.start("/admin/identity-source".to_string(), true, Some(form.session.actor())).await {
        Ok(url) => see_other(&url, None),
        Err(e) => {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            page(
                status,
                "/admin/identity-source",
                "Cannot start the sign-in",
                Some(&form.session),
                &message("error", &e.to_string()),
            )
        }
    }
}

async fn test_login_result(State(hub): State<Arc<Hub>>, Console(session): Console, Path(id): Path<String>) -> Response {
    let Some(test) = crate::upstream::login::test_login(&hub.store, &id).await else {
        let body = message("error", "No such test sign-in; run one from the identity source page.");
        return page(StatusCode::NOT_FOUND, "/admin/identity-source", "Test sign-in", Some(&session), &body);
    };
    let signed = match (test.response_signed, test.assertion_signed) {
        (true, true) => "the Response and the assertion",
        (true, false) => "the Response (covering the assertion)",
        (false, true) => "the assertion",
        (false, false) => "nothing",
    };
    let mut attributes = String::new();
    for (name, values) in &test.attributes {
        attributes.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            escape(name),
            escape(&values.join(" | "))
        ));
    }
    let mapping = if test.user_exists {
        message("ok", &format!("These claims sign in the hub user {}.", test.user_name))
    } else {
        message(
            "warn",
            &format!(
                "No hub user {} exists yet: with just-in-time provisioning the first sign-in creates it; otherwise provision it first.",
                test.user_name
            ),
        )
    };
    let body = format!(
        "{}<table id=\"assertion\"><tr><th>Issuer</th><td><code>{}</code></td></tr><tr><th>NameID</th><td><code>{}</code> ({})</td></tr><tr><th>Session index</th><td><code>{}</code></td></tr><tr><th>Valid until</th><td>{}</td></tr><tr><th>Signed</th><td>{signed}, by the certificate with SHA-256 <code>{}</code></td></tr></table>{mapping}<h2>Attributes</h2><table><tr><th>Name</th><th>Values</th></tr>{attributes}</table>",
        message("ok", "The identity provider's answer was valid. Nobody was signed in to the hub."),
        escape(&test.issuer),
        escape(&test.name_id),
        escape(test.name_id_format.as_deref().unwrap_or("no format")),
        escape(test.session_index.as_deref().unwrap_or("-")),
        escape(&test.not_on_or_after),
        escape(&test.certificate_sha256),
    );
    page(StatusCode::OK, "/admin/identity-source", "Test sign-in", Some(&session), &body)
}
