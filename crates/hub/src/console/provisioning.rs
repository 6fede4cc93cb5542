//! The Provisioning page: each connector's per-subject state, and a pass on demand.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{Outcome, ProvisioningStore, SyncState};

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Frame, NoFields, Notice, date, show};
use crate::sessions::ConsoleSession;
use crate::state::Hub;

/// One subject's state as the table shows it.
struct Row {
    connector: String,
    subject_name: String,
    class: &'static str,
    state: &'static str,
    detail: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "console/provisioning.html")]
struct ProvisioningPage<'a> {
    frame: Frame<'a>,
    connectors: String,
    records: Vec<Row>,
    csrf: &'a str,
}

impl ConsolePage for ProvisioningPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

async fn render(hub: &Hub, session: &ConsoleSession, notice: Option<Notice>) -> Response {
    let records = hub.store.list_provisioning(None).await.unwrap_or_default();
    let records = records
        .into_iter()
        .map(|r| Row {
            class: match r.state {
                SyncState::Failed => "error",
                SyncState::InSync => "ok",
                _ => "",
            },
            state: r.state.as_str(),
            updated: date(r.updated_at),
            connector: r.connector,
            subject_name: r.subject_name,
            detail: r.detail,
        })
        .collect();
    let connectors = hub.provisioning.connector_names().await;
    let connectors = if connectors.is_empty() { "none".to_string() } else { connectors.join(", ") };
    let frame = Frame::new("/admin/provisioning", "Provisioning", Some(session)).with(notice);
    show(StatusCode::OK, &ProvisioningPage { frame, connectors, records, csrf: &session.csrf })
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, None).await
}

pub(super) async fn sync(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    let session = form.session;
    hub.audit.note(&session.actor(), "provisioning.sync", None, Outcome::Success, String::new()).await;
    hub.provisioning.run_once().await;
    render(&hub, &session, Some(Notice::ok("A provisioning pass ran."))).await
}
