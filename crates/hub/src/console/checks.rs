//! The Checks page: the chain doctor run from inside the hub, against the target accounts and the
//! upstream IdP named in the configuration (`[target_account]`, `[[target_accounts]]`), with a
//! simulated sign-in for one user. The same checks as `crossfed check`; here the hub is read directly, not over its API.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{Page, UserStore};
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Frame, Notice, show};
use crate::check::{self, HubView, ReadError, Report};
use crate::rollover::Rollover;
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
        let catalog = self.0.catalog().await;
        let entry = catalog.get(&view.id).ok_or_else(|| ReadError(format!("no application {}", view.id)))?;
        Ok((self.0.app_metadata_xml(&view.id, &entry.app), None))
    }

    async fn keys(&self) -> Result<Vec<crate::rollover::RoleTrust>, ReadError> {
        let rollover = Rollover { hub: self.0 };
        let mut list = Vec::new();
        for ring in rollover.rings().await {
            let peers = crate::rollover::peers::peers(self.0, &ring).await;
            list.push(crate::rollover::RoleTrust { role: rollover.role_status(&ring), peers });
        }
        Ok(list)
    }

    async fn token_warnings(&self) -> Result<Vec<(String, String)>, ReadError> {
        let mut list = Vec::new();
        for purpose in [crate::tokens::ADMIN, crate::tokens::SCIM] {
            for view in crate::presenter::token_views(self.0, purpose).await.map_err(|e| ReadError(e.message))? {
                if let Some(warning) = view.warning {
                    list.push((format!("{purpose} token {}", view.record.name), warning));
                }
            }
        }
        Ok(list)
    }

    fn signing_key(&self, app: &ApplicationView) -> Result<Arc<crossfed_xmldsig::SigningKey>, ReadError> {
        let ring = self.0.keys.for_application(&app.id, app.definition.own_signing_key).map_err(read_error)?;
        Ok(ring.signing_key())
    }
}

#[derive(Template)]
#[template(path = "console/checks.html")]
struct ChecksPage<'a> {
    frame: Frame<'a>,
    /// The chain's links, when the target account is configured.
    report: Option<Report>,
    /// Whom a simulated sign-in walked, and what it found.
    simulated: Option<(&'a str, Report)>,
    csrf: &'a str,
}

impl ConsolePage for ChecksPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

async fn render(hub: &Hub, session: &ConsoleSession, simulated: Option<(&str, Report)>) -> Response {
    let frame = Frame::new("/admin/checks", "Chain checks", Some(session));
    let Some(parties) = &hub.check_parties else {
        return show(StatusCode::OK, &ChecksPage { frame, report: None, simulated: None, csrf: &session.csrf });
    };
    let report = check::check_chain(&LocalHub(hub), parties, &hub.clock).await;
    let headline = if report.failed() {
        Notice::error(format!(
            "{} of {} links are broken; each says how to fix it.",
            report.broken(),
            report.findings.len()
        ))
    } else {
        Notice::ok(format!("All {} links hold.", report.findings.len()))
    };
    let page = ChecksPage { frame: frame.with(Some(headline)), report: Some(report), simulated, csrf: &session.csrf };
    show(StatusCode::OK, &page)
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
