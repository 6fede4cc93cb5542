//! The Keys page: each role's keys (request, assertion, and applications' own), where its
//! rollover stands, who trusts what as far as the hub can ask, and the next step as a button.
//! The steps go through the rollover service, so the page refuses what the API refuses (an
//! activation a peer is not ready for, a retirement before instances have followed).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Expiry, Frame, Notice, show};
use crate::keys::{KeyRole, RolloverStage};
use crate::rollover::{KeyCertificateView, PeerTrust, RoleStatus, Rollover, RolloverError, StepDone, Trust};
use crate::sessions::ConsoleSession;
use crate::state::Hub;

/// One key as the table shows it.
struct KeyRow {
    slot: &'static str,
    subject: String,
    sha256: String,
    expiry: Expiry,
}

impl KeyRow {
    fn of(slot: &'static str, c: &KeyCertificateView, now: i64) -> KeyRow {
        KeyRow { slot, subject: c.subject.clone(), sha256: c.sha256.clone(), expiry: Expiry::of(c.not_after, now) }
    }
}

/// One peer's trust, as the table shows it.
struct PeerRow {
    peer: String,
    current: (&'static str, String),
    next: Option<(&'static str, String)>,
}

fn trust_cell(trust: &Trust) -> (&'static str, String) {
    match trust {
        Trust::Yes => ("ok", "trusts it".to_string()),
        Trust::No(why) => ("error", format!("does not: {why}")),
        Trust::Unknown(why) => ("warn", format!("cannot tell: {why}")),
    }
}

/// One role's section.
struct RoleSection {
    role: String,
    purpose: String,
    stage_text: String,
    /// `stage`, `activate` or `retire`: the button the section offers.
    step: &'static str,
    keys: Vec<KeyRow>,
    peers: Vec<PeerRow>,
    next_step: String,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage<'a> {
    frame: Frame<'a>,
    roles: Vec<RoleSection>,
    csrf: &'a str,
}

impl ConsolePage for KeysPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

fn section(status: RoleStatus, peers: Vec<PeerTrust>, now: i64) -> RoleSection {
    let mut keys = vec![KeyRow::of("signing now", &status.current, now)];
    keys.extend(status.next.iter().map(|c| KeyRow::of("staged next (published, not signing yet)", c, now)));
    keys.extend(status.previous.iter().map(|c| KeyRow::of("previous (published until retired)", c, now)));
    let step = match status.stage {
        RolloverStage::Steady => "stage",
        RolloverStage::Staged => "activate",
        RolloverStage::Activated => "retire",
    };
    RoleSection {
        role: status.role,
        purpose: status.purpose,
        stage_text: status.stage_text,
        step,
        keys,
        peers: peers
            .iter()
            .map(|p| PeerRow {
                peer: p.peer.clone(),
                current: trust_cell(&p.current),
                next: p.next.as_ref().map(trust_cell),
            })
            .collect(),
        next_step: status.next_step,
    }
}

async fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let now = hub.clock.unix();
    let rollover = Rollover { hub };
    let mut roles = Vec::new();
    for ring in rollover.rings().await {
        let peers = crate::rollover::peers::peers(hub, &ring).await;
        roles.push(section(rollover.role_status(&ring), peers, now));
    }
    let frame = Frame::new("/admin/keys", "Keys and certificates", Some(session)).with(notice);
    show(status, &KeysPage { frame, roles, csrf: &session.csrf })
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(super) struct StepForm {
    role: String,
    /// Activate although a peer the hub asked does not trust the next key.
    force: Option<String>,
}

/// `POST /admin/keys/{stage,activate,retire}`.
pub(super) async fn step(
    State(hub): State<Arc<Hub>>,
    axum::extract::Path(step): axum::extract::Path<String>,
    posted: ConsoleForm<StepForm>,
) -> Response {
    let ConsoleForm { session, form } = posted;
    let role = match KeyRole::parse(&form.role) {
        Ok(role) => role,
        Err(e) => return render(&hub, &session, StatusCode::BAD_REQUEST, Some(Notice::error(e.to_string()))).await,
    };
    let (rollover, actor) = (Rollover { hub: &hub }, session.actor());
    let done = match step.as_str() {
        "stage" => rollover.stage(&role, &actor).await,
        "activate" => rollover.activate(&role, &actor, form.force.as_deref() == Some("yes")).await,
        "retire" => rollover.retire(&role, &actor).await,
        other => {
            let note = Notice::error(format!("unknown step {other:?}: stage, activate or retire"));
            return render(&hub, &session, StatusCode::NOT_FOUND, Some(note)).await;
        }
    };
    let (status, notice) = answer(done);
    render(&hub, &session, status, Some(notice)).await
}

fn answer(done: Result<StepDone, RolloverError>) -> (StatusCode, Notice) {
    match done {
        Ok(done) if done.warnings.is_empty() => (
            StatusCode::OK,
            Notice::ok(format!("The {} key: {} done ({}).", done.role, done.step, done.certificate.short())),
        ),
        Ok(done) => (
            StatusCode::OK,
            Notice::error(format!(
                "The {} key: {} done ({}), but check these peers: {}",
                done.role,
                done.step,
                done.certificate.short(),
                done.warnings.join("; ")
            )),
        ),
        Err(e) => {
            // The API's status for the same refusal.
            let status = crate::web::error::ApiError::from(e);
            (status.status, Notice::error(status.message))
        }
    }
}
