//! The Checks page: the chain doctor run from inside the hub, against the target account and the
//! upstream IdP named in the configuration (`[target_account]`), with a simulated sign-in for one
//! user. The same checks as `crossfed check`; here the hub is read directly, not over its API.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{Page, UserStore};
use crossfed_web::escape;
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::message;
use crate::check::{self, HubView, ReadError, Report};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::views::{ApplicationView, IdentitySourceView, Preview, UserView};

/// The hub the console runs in, read as the admin API would show it.
struct LocalHub<'a>(&'a Hub);

fn read_error(e: impl std::fmt::Display) -> ReadError {
    ReadError(e.to_string())
}

impl HubView for LocalHub<'_> {
    async fn applications(&self) -> Result<Vec<ApplicationView>, ReadError> {
        crate::presenter::application_views(self.0).await.map_err(|e| ReadError(e.message))
    }

    async fn users(&self) -> Result<Vec<UserView>, ReadError> {
        let (users, _) = self.0.store.list_users(Page { offset: 0, limit: 1000 }).await.map_err(read_error)?;
        let mut views = Vec::with_capacity(users.len());
        for user in users {
            views.push(crate::presenter::user_view(self.0, user).await.map_err(|e| ReadError(e.message))?);
        }
        Ok(views)
    }

    async fn user(&self, name: &str) -> Result<UserView, ReadError> {
        let user = self.0.directory.find_user(name).await.map_err(read_error)?;
        crate::presenter::user_view(self.0, user).await.map_err(|e| ReadError(e.message))
    }

    async fn preview(&self, app: &str, user: &str) -> Result<Preview, ReadError> {
        self.0.apps().preview(app, user).await.map_err(read_error)
    }

    async fn identity_source(&self) -> Result<Option<IdentitySourceView>, ReadError> {
        Ok(crate::presenter::identity_source_view(self.0))
    }

    async fn application_metadata(&self, view: &ApplicationView) -> Result<(String, Option<i64>), ReadError> {
        // This machine's own clock: nothing to compare.
        Ok((self.0.app_metadata_xml(&view.id), None))
    }

    fn signing_key(&self) -> Result<Arc<crossfed_xmldsig::SigningKey>, ReadError> {
        Ok(self.0.keys.signing_key())
    }
}

fn findings_table(report: &Report) -> String {
    let mut rows = String::new();
    for f in &report.findings {
        let (class, mark) = if f.ok { ("ok", "✓") } else { ("error", "✗") };
        let fix = f.fix.as_deref().map(|fix| format!("<br><em>fix:</em> {}", escape(fix))).unwrap_or_default();
        rows.push_str(&format!(
            "<tr class=\"finding\" data-link=\"{link}\" data-ok=\"{ok}\"><td class=\"{class}\">{mark}</td><td>{link}</td><td>{}</td><td>{}{fix}</td></tr>",
            escape(&f.subject),
            escape(&f.detail),
            link = escape(f.link),
            ok = f.ok,
        ));
    }
    format!(
        "<table id=\"findings\"><tr><th></th><th>Link</th><th>Subject</th><th>Finding</th></tr>{rows}</table><p id=\"summary\">{} links checked, {} broken</p>",
        report.findings.len(),
        report.broken()
    )
}

async fn render(hub: &Hub, session: &ConsoleSession, simulated: Option<(&str, Report)>) -> Response {
    let Some(parties) = &hub.check_parties else {
        let body = "<p>The checks read the AWS account the applications sign people into, with read-only keys \
(iam:GetSAMLProvider, iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, \
sts:GetCallerIdentity, connect:DescribeInstance, connect:ListUsers). Give them in the configuration file:</p>\
<pre><code>[target_account]\naccess_key_id = \"AKIA…\"\nsecret_access_key_file = \"target-account.secret\"\n\
# endpoint = \"http://127.0.0.1:9001\"   # an emulated account; leave out for AWS\n</code></pre>\
<p><code>crossfed check</code> runs the same checks from a shell.</p>";
        return super::page(StatusCode::OK, "/admin/checks", "Chain checks", Some(session), body);
    };
    let report = check::check_chain(&LocalHub(hub), parties, &hub.clock).await;
    let status = if report.failed() { "error" } else { "ok" };
    let headline = if report.failed() {
        format!("{} of {} links are broken; each says how to fix it.", report.broken(), report.findings.len())
    } else {
        format!("All {} links hold.", report.findings.len())
    };
    let simulation = match simulated {
        Some((user, walked)) => format!("<h2>Simulated sign-in of {}</h2>{}", escape(user), findings_table(&walked)),
        None => String::new(),
    };
    let body = format!(
        "{}{}{simulation}<h2>Simulate a sign-in</h2><p>Signs the Response the hub would send the user with the hub's key, \
posts it to the account's sign-in endpoint and follows it to the Amazon Connect agent workspace, without a browser.</p>\
<form method=\"post\" action=\"/admin/checks/simulate\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label>User <input name=\"user\" required></label> <button type=\"submit\">Simulate</button></form>",
        message(status, &headline),
        findings_table(&report),
        escape(&session.csrf)
    );
    super::page(StatusCode::OK, "/admin/checks", "Chain checks", Some(session), &body)
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, None).await
}

#[derive(Deserialize)]
pub(super) struct SimulateForm {
    user: String,
}

pub(super) async fn simulate(State(hub): State<Arc<Hub>>, posted: ConsoleForm<SimulateForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let user = form.user.trim();
    let mut walked = Report::default();
    check::simulate(&LocalHub(&hub), user, &hub.clock, &mut walked).await;
    render(&hub, &session, Some((user, walked))).await
}
