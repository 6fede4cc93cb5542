//! The Keys page: the signing key, a staged next one and the previous one, with rotation in two
//! steps. Staging publishes the next certificate in every metadata document at once, so service
//! providers can import it; activating makes it the signing key. Instances sharing the key files
//! follow within a minute (the janitor re-reads them).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::Outcome;
use crossfed_xmldsig::Certificate;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Expiry, Frame, NoFields, Notice, show};
use crate::audit_queue::AuditError;
use crate::sessions::ConsoleSession;
use crate::state::Hub;

/// One key as the table shows it.
struct KeyRow {
    role: &'static str,
    subject: String,
    sha256: String,
    expiry: Expiry,
}

impl KeyRow {
    fn of(role: &'static str, c: &Certificate, now: i64) -> KeyRow {
        KeyRow {
            role,
            subject: c.subject().to_string(),
            sha256: c.fingerprint_hex(),
            expiry: Expiry::of(c.not_after(), now),
        }
    }
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage<'a> {
    frame: Frame<'a>,
    keys: Vec<KeyRow>,
    /// Whether a next key is staged (the next step is activating it).
    staged: bool,
    csrf: &'a str,
}

impl ConsolePage for KeysPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let keys = hub.keys.current();
    let now = hub.clock.unix();
    let mut rows = vec![KeyRow::of("signing now", keys.current.certificate(), now)];
    rows.extend(keys.next.iter().map(|c| KeyRow::of("staged next (published, not signing yet)", c, now)));
    rows.extend(keys.previous.iter().map(|c| KeyRow::of("previous (no longer published)", c, now)));
    let frame = Frame::new("/admin/keys", "Keys and certificates", Some(session)).with(notice);
    show(status, &KeysPage { frame, keys: rows, staged: keys.next.is_some(), csrf: &session.csrf })
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, None)
}

/// What the console says when a key change was made but could not be audited.
fn unrecorded(e: &AuditError) -> Notice {
    Notice::error(format!(
        "The key change was made but its audit record could not be stored ({e}); it is not acknowledged. Check the keys below."
    ))
}

pub(super) async fn stage(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    let session = form.session;
    let result = {
        let hub = hub.clone();
        tokio::task::spawn_blocking(move || hub.keys.stage_next()).await
    };
    match result {
        Ok(Ok(c)) => {
            let fingerprint = c.fingerprint_hex();
            let actor = session.actor();
            let recorded = hub.audit.record(&actor, "keys.stage", Some(&fingerprint), Outcome::Success, String::new());
            if let Err(e) = recorded.await {
                return render(&hub, &session, StatusCode::SERVICE_UNAVAILABLE, Some(unrecorded(&e)));
            }
            let note = Notice::ok(
                "A next key is staged and published in the metadata. Re-import the metadata where service providers copy it, then activate.",
            );
            render(&hub, &session, StatusCode::OK, Some(note))
        }
        Ok(Err(e)) => render(&hub, &session, StatusCode::CONFLICT, Some(Notice::error(e.to_string()))),
        Err(e) => render(&hub, &session, StatusCode::INTERNAL_SERVER_ERROR, Some(Notice::error(e.to_string()))),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ActivateForm {
    confirm: Option<String>,
}

pub(super) async fn activate(State(hub): State<Arc<Hub>>, posted: ConsoleForm<ActivateForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    if form.confirm.as_deref() != Some("yes") {
        let note = Notice::error("Confirm that the service providers trust the next certificate before activating it.");
        return render(&hub, &session, StatusCode::BAD_REQUEST, Some(note));
    }
    match hub.keys.activate_next() {
        Ok(c) => {
            let fingerprint = c.fingerprint_hex();
            let actor = session.actor();
            let recorded =
                hub.audit.record(&actor, "keys.activate", Some(&fingerprint), Outcome::Success, String::new());
            if let Err(e) = recorded.await {
                return render(&hub, &session, StatusCode::SERVICE_UNAVAILABLE, Some(unrecorded(&e)));
            }
            let note = Notice::ok("The next key signs from now on; the old one is kept as the previous key.");
            render(&hub, &session, StatusCode::OK, Some(note))
        }
        Err(e) => render(&hub, &session, StatusCode::CONFLICT, Some(Notice::error(e.to_string()))),
    }
}
