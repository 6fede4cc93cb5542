//! The identity source wizard: the hub's SP metadata for the IdP, the IdP's metadata the hub
//! trusts (uploaded here), and a test sign-in that shows what the IdP sends without signing
//! anyone in.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::FormTargets;
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Expiry, Frame, NoFields, Notice, message_page, show};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::upstream::Provisioning;
use crate::upstream::login::TestLogin;
use crate::web::extract::Browser;
use crate::web::pages::leave_for;

const HERE: &str = "/admin/identity-source";

/// The identity source as the page shows it.
struct Source {
    sp_entity_id: String,
    acs_url: String,
    slo_url: String,
    idp_entity_id: String,
    valid_until: Option<Expiry>,
    provisioning: &'static str,
    idp_initiated: bool,
    /// (subject, SHA-256, expiry) of each signing certificate.
    certificates: Vec<(String, String, Expiry)>,
    /// The URL the configuration refreshes the metadata from (an upload is replaced then).
    refreshed_from: Option<String>,
}

#[derive(Template)]
#[template(path = "console/identity_source.html")]
struct SourcePage<'a> {
    frame: Frame<'a>,
    source: Option<Source>,
    csrf: &'a str,
}

impl ConsolePage for SourcePage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let now = hub.clock.unix();
    let source = hub.identity_source.as_ref().map(|source| {
        let idp = source.idp();
        let certificates = idp
            .idp
            .as_ref()
            .map(|d| {
                d.signing_certificates
                    .iter()
                    .map(|c| (c.subject().to_string(), c.fingerprint_hex(), Expiry::of(c.not_after(), now)))
                    .collect()
            })
            .unwrap_or_default();
        Source {
            sp_entity_id: source.sp_entity_id.clone(),
            acs_url: source.acs_url.clone(),
            slo_url: crate::upstream::slo_url_beside(&source.acs_url),
            idp_entity_id: idp.entity_id.clone(),
            valid_until: idp.valid_until.map(|t| Expiry::of(t.unix(), now)),
            provisioning: match source.provisioning {
                Provisioning::JustInTime => "users are created at first sign-in",
                Provisioning::Required => "users must be provisioned first (SCIM or the admin API)",
            },
            idp_initiated: source.allow_idp_initiated,
            certificates,
            refreshed_from: source.refresh.as_ref().and_then(|r| r.url.clone()),
        }
    });
    let mut frame = Frame::new(HERE, "Identity source", Some(session)).with(notice);
    if source.is_some() {
        // The test sign-in's form is redirected to the IdP.
        frame.forms = FormTargets::Anywhere;
    }
    show(status, &SourcePage { frame, source, csrf: &session.csrf })
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub(super) struct MetadataForm {
    metadata: String,
}

/// Step 2 of the wizard: the IdP's metadata, pasted.
pub(super) async fn upload(State(hub): State<Arc<Hub>>, posted: ConsoleForm<MetadataForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let Some(metadata) = hub.idp_metadata() else {
        let text =
            "this hub signs people in with its built-in directory; add [identity_source] to its configuration first";
        return render(&hub, &session, StatusCode::BAD_REQUEST, Some(Notice::error(text)));
    };
    match metadata.upload(form.metadata.trim().as_bytes(), &session.actor()).await {
        Ok(entity_id) => {
            let text = format!("The hub trusts {entity_id} from now on. Run a test sign-in to see it work.");
            render(&hub, &session, StatusCode::OK, Some(Notice::ok(text)))
        }
        Err(e) => render(&hub, &session, StatusCode::BAD_REQUEST, Some(Notice::error(e.to_string()))),
    }
}

/// Step 3: a sign-in at the IdP whose answer is shown, not signed in.
pub(super) async fn start_test(State(hub): State<Arc<Hub>>, browser: Browser, form: ConsoleForm<NoFields>) -> Response {
    let session = form.session;
    let Some(logins) = hub.upstream_logins() else {
        let notice = Notice::error("This hub has no upstream identity provider.");
        return message_page(StatusCode::NOT_FOUND, HERE, "No identity source", Some(&session), notice);
    };
    let (key, cookie) = browser.key_or_new(&hub);
    match logins.start(HERE.to_string(), true, Some(session.actor()), &key).await {
        Ok(url) => leave_for(&url, "Test sign-in", "Going to the identity provider for a test sign-in…", cookie),
        Err(e) => {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            message_page(status, HERE, "Cannot start the sign-in", Some(&session), Notice::error(e.to_string()))
        }
    }
}

#[derive(Template)]
#[template(path = "console/test_login.html")]
struct TestPage<'a> {
    frame: Frame<'a>,
    test: TestLogin,
    /// What the signature covered.
    signed: &'static str,
}

impl ConsolePage for TestPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

pub(super) async fn test_result(
    State(hub): State<Arc<Hub>>,
    Console(session): Console,
    Path(id): Path<String>,
) -> Response {
    let Some(test) = crate::upstream::login::test_login(&hub.store, &id).await else {
        let notice = Notice::error("No such test sign-in; run one from the identity source page.");
        return message_page(StatusCode::NOT_FOUND, HERE, "Test sign-in", Some(&session), notice);
    };
    let signed = match (test.response_signed, test.assertion_signed) {
        (true, true) => "the Response and the assertion",
        (true, false) => "the Response (covering the assertion)",
        (false, true) => "the assertion",
        (false, false) => "nothing",
    };
    let notice = Notice::ok("The identity provider's answer was valid. Nobody was signed in to the hub.");
    let frame = Frame::new(HERE, "Test sign-in", Some(&session)).with(Some(notice));
    show(StatusCode::OK, &TestPage { frame, test, signed })
}
