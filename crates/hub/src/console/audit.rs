//! The Audit log page: the newest records, filtered by actor, action (or a family of actions,
//! such as `refused.*`) and client address.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{AuditLog, AuditQuery, Outcome};
use serde::Deserialize;

use super::guard::Console;
use super::layout::{ConsolePage, Frame, Notice, date, message_page, show};
use crate::state::Hub;
use crate::web::error::ApiError;

/// One record as the table shows it.
struct Row {
    when: String,
    actor: String,
    action: String,
    target: String,
    source: String,
    success: bool,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage<'a> {
    frame: Frame<'a>,
    actor: String,
    action: String,
    source: String,
    events: Vec<Row>,
}

impl ConsolePage for AuditPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

#[derive(Deserialize)]
pub(super) struct AuditFilter {
    actor: Option<String>,
    action: Option<String>,
    source: Option<String>,
}

pub(super) async fn page(
    State(hub): State<Arc<Hub>>,
    Console(session): Console,
    Query(filter): Query<AuditFilter>,
) -> Response {
    let actor = filter.actor.filter(|a| !a.is_empty());
    let action = filter.action.filter(|a| !a.is_empty());
    let source = filter.source.filter(|a| !a.is_empty());
    let query = AuditQuery {
        actor: actor.clone(),
        action: action.clone(),
        source: source.clone(),
        since: None,
        until: None,
        limit: Some(200),
    };
    let events = match hub.store.query(&query).await {
        Ok(e) => e,
        Err(e) => {
            let e = ApiError::from(e);
            return message_page(e.status, "/admin/audit", "Audit log", Some(&session), Notice::error(e.message));
        }
    };
    let events = events
        .into_iter()
        .map(|e| Row {
            when: date(e.at),
            success: e.outcome == Outcome::Success,
            target: e.target.unwrap_or_default(),
            source: e.source.unwrap_or_default(),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    let frame = Frame::new("/admin/audit", "Audit log", Some(&session));
    let page = AuditPage {
        frame,
        actor: actor.unwrap_or_default(),
        action: action.unwrap_or_default(),
        source: source.unwrap_or_default(),
        events,
    };
    show(StatusCode::OK, &page)
}
