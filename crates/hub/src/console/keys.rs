//! The Keys page: the signing key, a staged next one and the previous one, with rotation in two
//! steps. Staging publishes the next certificate in every metadata document at once, so service
//! providers can import it; activating makes it the signing key. Instances sharing the key files
//! follow within a minute (the janitor re-reads them).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::Outcome;
use crossfed_web::escape;
use crossfed_xmldsig::Certificate;

use super::guard::{Console, ConsoleForm};
use super::{NoFields, expiry, message};
use crate::sessions::ConsoleSession;
use crate::state::Hub;

fn row(role: &str, c: &Certificate, now: i64) -> String {
    format!(
        "<tr><td>{role}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
        escape(c.subject()),
        escape(&c.fingerprint_hex()),
        expiry(c.not_after(), now)
    )
}

fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, note: &str) -> Response {
    let keys = hub.keys.current();
    let now = hub.clock.unix();
    let mut rows = row("signing now", keys.current.certificate(), now);
    if let Some(next) = &keys.next {
        rows.push_str(&row("staged next (published, not signing yet)", next, now));
    }
    if let Some(previous) = &keys.previous {
        rows.push_str(&row("previous (no longer published)", previous, now));
    }
    let csrf = escape(&session.csrf);
    let step = if keys.next.is_some() {
        format!(
            "<h2>Activate the next key</h2><p>Every service provider must trust the next certificate first: re-import \
the hub's metadata where it is copied (an IAM SAML provider, for instance). Then make it the signing key.</p>\
<form method=\"post\" action=\"/admin/keys/activate\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label><input type=\"checkbox\" name=\"confirm\" value=\"yes\" required> the service providers trust the next certificate</label> \
<button type=\"submit\">Activate the next key</button></form>"
        )
    } else {
        format!(
            "<h2>Rotate</h2><p>Rotation has two steps with an overlap. First stage a next key: it is published in every \
metadata document from now on, beside the current one, and signs nothing yet.</p>\
<form method=\"post\" action=\"/admin/keys/stage\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\">Stage a next key</button></form>"
        )
    };
    let body = format!(
        "{note}<table><tr><th>Role</th><th>Subject</th><th>SHA-256</th><th>Valid until</th></tr>{rows}</table>{step}\
<p>The same from a shell: <code>crossfed keys rotate --data-dir DATA_DIR</code>, then \
<code>crossfed keys rotate --activate</code>. Hub instances sharing the key files follow within a minute.</p>"
    );
    super::page(status, "/admin/keys", "Keys and certificates", Some(session), &body)
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, "")
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
            hub.audit.record(&session.actor(), "keys.stage", Some(&fingerprint), Outcome::Success, String::new()).await;
            let note = message(
                "ok",
                "A next key is staged and published in the metadata. Re-import the metadata where service providers copy it, then activate.",
            );
            render(&hub, &session, StatusCode::OK, &note)
        }
        Ok(Err(e)) => render(&hub, &session, StatusCode::CONFLICT, &message("error", &e.to_string())),
        Err(e) => render(&hub, &session, StatusCode::INTERNAL_SERVER_ERROR, &message("error", &e.to_string())),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct ActivateForm {
    confirm: Option<String>,
}

pub(super) async fn activate(State(hub): State<Arc<Hub>>, posted: ConsoleForm<ActivateForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    if form.confirm.as_deref() != Some("yes") {
        let note =
            message("error", "Confirm that the service providers trust the next certificate before activating it.");
        return render(&hub, &session, StatusCode::BAD_REQUEST, &note);
    }
    match hub.keys.activate_next() {
        Ok(c) => {
            let fingerprint = c.fingerprint_hex();
            hub.audit
                .record(&session.actor(), "keys.activate", Some(&fingerprint), Outcome::Success, String::new())
                .await;
            let note = message("ok", "The next key signs from now on; the old one is kept as the previous key.");
            render(&hub, &session, StatusCode::OK, &note)
        }
        Err(e) => render(&hub, &session, StatusCode::CONFLICT, &message("error", &e.to_string())),
    }
}
