//! The attack corpus through the hub's ACS (`POST /saml/acs`, over HTTP): every case is refused,
//! and the page says why in the words of the case's own error. A few cases are answered before
//! or beside validation for a reason of the hub's own; `hub_deviation` lists them, each with the
//! answer the hub gives instead.
//!
//! The corpus is built at a fixed instant, so the hub's clock is fixed at the instant each case
//! is validated at. The hub is configured with the base URL `https://hub.example.com`, which makes
//! its SP entity ID and ACS URL the corpus's SP and ACS (they are compared, never fetched). Each
//! case answers request `_req1`: the pending login the ACS looks for is the record the hub's own
//! `/login` wrote when it sent a real AuthnRequest, stored again under `_req1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A crate root resolves `mod` next to itself; the corpus lives with the saml crate's tests.
use crossfed_attacks as corpus;

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use corpus::{ACS, Case, Expected, Fixture, IDP, Input, REQUEST_ID, SP};
use crossfed_clock::Clock;
use crossfed_hub::Hub;
use crossfed_saml::{
    Endpoint, EntityDescriptor, MemoryReplayCache, SignatureRequirement, SpPolicy, ValidationError, decode_redirect,
    parse_authn_request, validate_response,
};
use crossfed_store::{ObjectKey, ObjectStore, StoredObject};
use reqwest::StatusCode;

/// The hub's URL as configured: its SP entity ID and ACS URL are then the corpus's [`SP`] and
/// [`ACS`]. It listens on a loopback port; these URLs are only compared.
const BASE_URL: &str = "https://hub.example.com";
const IDP_SSO: &str = "https://corp.example.com/sso";
/// The request of the `wrong-in-response-to` case.
const OTHER_REQUEST: &str = "_another_request";
/// The hub's body limit (`DefaultBodyLimit` in its router).
const BODY_LIMIT: usize = 256 * 1024;
const REFUSED: &str = "The identity provider's response was refused: ";
const NOT_STARTED: &str = "The identity provider answered a sign-in this hub did not start, or one that expired or was already completed. Sign in again.";

/// Where the hub does not answer with the case's expected error, and why.
#[derive(Debug)]
enum Deviation {
    /// The response answers a request the hub is not waiting for: refused before validation,
    /// with the hub's "Sign-in expired" page.
    NotStarted,
    /// The case requires a stronger signature than the hub's policy (an assertion covered by a
    /// signature, SAML profiles §4.1.3.5): refused with the error that policy gives.
    HubPolicy(ValidationError),
    /// Not an attack under the hub's policy: the untouched response, accepted.
    Accepted,
    /// Larger than the hub takes in a request body: refused before the form is read.
    BodyTooLarge,
}

fn hub_deviation(name: &str) -> Option<Deviation> {
    match name {
        // The hub keeps one pending login per AuthnRequest it sent, found by the response's
        // InResponseTo: an answer to another request, or to none, finds nothing to complete.
        "wrong-in-response-to" | "response-to-no-pending-request" => Some(Deviation::NotStarted),
        "signature-exclusion-with-assertion-signature-required" => {
            Some(Deviation::HubPolicy(ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }))
        }
        "response-signature-stripped-when-required" => Some(Deviation::Accepted),
        "oversized-input" | "too-many-nodes" => Some(Deviation::BodyTooLarge),
        _ => None,
    }
}

/// Whether the case is answered otherwise than with its expected error: by the table above, as
/// a second presentation, or as an HTTP-Redirect message.
fn answered_otherwise(case: &Case) -> bool {
    hub_deviation(case.name).is_some() || case.context.replay_first || matches!(case.input, Input::Redirect(_))
}

struct TestHub {
    url: String,
    hub: Arc<Hub>,
    /// A clone of the hub's fixed clock.
    clock: Clock,
    client: reqwest::Client,
    /// The pending login the hub's `/login` stored, re-keyed for the corpus's requests.
    pending: StoredObject,
    /// The data directory (the hub's key), removed when the hub goes.
    _data: Box<dyn std::any::Any>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A hub trusting the fixture's IdP, its clock fixed at the corpus's validation instant.
async fn start(fx: &Fixture) -> TestHub {
    let data = crossfed_testkit::temp_dir();
    let metadata = data.path().join("corp-idp.xml");
    let idp = EntityDescriptor::idp(IDP, vec![fx.idp_key.certificate().clone()], vec![Endpoint::redirect(IDP_SSO)]);
    std::fs::write(&metadata, idp.to_xml()).unwrap();
    let config: crossfed_hub::config::HubConfig = toml::from_str(&format!(
        "[identity_source]\nmetadata_file = {:?}\nrefresh_minutes = 0\n",
        metadata.display().to_string()
    ))
    .unwrap();
    let store = crossfed_testkit::test_store("attacks").await;
    let clock = Clock::fixed(Fixture::now());
    let (hub, _) = crossfed_hub::build_hub(&config, store, data.path(), BASE_URL, clock.clone()).await.unwrap();
    let source = hub.identity_source.as_ref().unwrap();
    assert_eq!((source.sp_entity_id.as_str(), source.acs_url.as_str()), (SP, ACS));
    let hub = Arc::new(hub);

    let (listener, url) = crate::support::listener().await;
    let shutdown = crate::support::serve(listener, hub.clone());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();

    // A real start of a sign-in: a signed AuthnRequest to the IdP, and a pending login stored.
    let response = client.get(format!("{url}/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let query = location.strip_prefix(&format!("{IDP_SSO}?")).unwrap();
    let request = parse_authn_request(&decode_redirect(query).unwrap().xml, None).unwrap();
    let pending = hub.store.get_object("hub-pending-login", &request.id).await.unwrap().expect("a pending login");
    let body: serde_json::Value = serde_json::from_str(&pending.body).unwrap();
    assert_eq!(body["request_id"], request.id.as_str(), "{}", pending.body);
    TestHub { url, hub, clock, client, pending, _data: Box::new(data), _shutdown: shutdown }
}

/// What came back: status, Location, and the page's message (unescaped) or body.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    message: String,
}

impl TestHub {
    /// Makes the hub wait for exactly `request` (or for nothing): the record `/login` stored,
    /// under that request ID, as if started now by the hub's clock (which each case sets).
    async fn pending_login(&self, request: Option<&str>) {
        for id in [REQUEST_ID, OTHER_REQUEST] {
            let _ = self.hub.store.delete_object(&self.pending.kind, id).await;
        }
        let Some(id) = request else { return };
        let now = self.clock.unix();
        let mut body: serde_json::Value = serde_json::from_str(&self.pending.body).unwrap();
        body["request_id"] = id.into();
        body["expires"] = (now + 600).into();
        let key = ObjectKey { kind: &self.pending.kind, scope: &self.pending.scope, name_key: id, id };
        self.hub.store.insert_object(key, &body.to_string(), now).await.unwrap();
    }

    async fn post(&self, xml: &[u8]) -> Answer {
        let response = self
            .client
            .post(format!("{}/saml/acs", self.url))
            .form(&[("SAMLResponse", STANDARD.encode(xml))])
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    async fn get(&self, query: &str) -> Answer {
        answer(self.client.get(format!("{}/saml/acs?{query}", self.url)).send().await.unwrap()).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    let body = response.text().await.unwrap();
    let message = match body.split_once("id=\"message\">") {
        Some((_, rest)) => crossfed_testkit::browser::unescape(rest.split("</p>").next().unwrap()),
        None => body,
    };
    Answer { status, location, message }
}

fn expect_refused(answer: &Answer, status: StatusCode, message: &str) -> Result<(), String> {
    if answer.status == status && answer.message == message {
        Ok(())
    } else {
        Err(format!(
            "expected {status} {message:?}, got {} {:?} (Location {:?})",
            answer.status, answer.message, answer.location
        ))
    }
}

fn expect_signed_in(answer: &Answer) -> Result<(), String> {
    if answer.status == StatusCode::SEE_OTHER && answer.location.as_deref() == Some("/portal") {
        Ok(())
    } else {
        Err(format!("expected a sign-in (303 to /portal), got {} {:?}", answer.status, answer.message))
    }
}

/// What the library answers under the hub's policy: the corpus's SP, ACS and IdP, the default
/// signature requirement, no IdP-initiated login.
fn hub_policy_result(fx: &Fixture, xml: &[u8], case: &Case) -> Result<crossfed_saml::Accepted, ValidationError> {
    let certs = vec![fx.idp_key.certificate().clone()];
    let policy = SpPolicy::new(SP, ACS, IDP, &certs);
    validate_response(xml, &policy, case.context.request_id.as_deref(), case.context.now, &MemoryReplayCache::default())
}

async fn run(fx: &Fixture, hub: &TestHub, case: &Case) -> Result<(), String> {
    hub.clock.set(case.context.now);
    let xml = match &case.input {
        Input::Redirect(query) => {
            // The Web SSO profile sends Responses by POST (profiles §4.1.2): the ACS has no
            // HTTP-Redirect binding to decode anything with.
            let answer = hub.get(query).await;
            if answer.status != StatusCode::METHOD_NOT_ALLOWED {
                return Err(format!("GET /saml/acs answered {} {:?}", answer.status, answer.message));
            }
            if let Expected::Binding(_) = case.expected {
                return Ok(());
            }
            // Posted instead, the message inside is refused like any other.
            decode_redirect(query).map_err(|e| format!("binding error {e:?}"))?.xml
        }
        Input::Post(xml) => xml.clone(),
    };
    if case.context.replay_first {
        return run_replay(fx, case, &xml).await;
    }
    match hub_deviation(case.name) {
        None => {
            if case.context.signatures != SignatureRequirement::default() {
                return Err("the case asks for another signature policy than the hub's; list it".to_string());
            }
            let Err(error) = hub_policy_result(fx, &xml, case) else {
                return Err("the library accepts it under the hub's policy".to_string());
            };
            if !case.expected.matches_validation(&error) {
                return Err(format!("the library gives {error:?}, not {}", case.expected.describe()));
            }
            hub.pending_login(case.context.request_id.as_deref()).await;
            expect_refused(&hub.post(&xml).await, StatusCode::FORBIDDEN, &format!("{REFUSED}{error}"))
        }
        Some(Deviation::NotStarted) => {
            hub.pending_login(case.context.request_id.as_deref()).await;
            expect_refused(&hub.post(&xml).await, StatusCode::FORBIDDEN, NOT_STARTED)
        }
        Some(Deviation::HubPolicy(error)) => {
            assert_eq!(hub_policy_result(fx, &xml, case).err(), Some(error.clone()), "{}", case.name);
            hub.pending_login(case.context.request_id.as_deref()).await;
            expect_refused(&hub.post(&xml).await, StatusCode::FORBIDDEN, &format!("{REFUSED}{error}"))
        }
        Some(Deviation::Accepted) => {
            hub_policy_result(fx, &xml, case).map_err(|e| format!("the library refuses it: {e:?}"))?;
            // On a hub of its own: accepting it records the assertion ID other cases reuse.
            let own = start(fx).await;
            own.clock.set(case.context.now);
            own.pending_login(case.context.request_id.as_deref()).await;
            expect_signed_in(&own.post(&xml).await)
        }
        Some(Deviation::BodyTooLarge) => {
            let encoded = STANDARD.encode(&xml).len();
            assert!(encoded > BODY_LIMIT, "{}: {encoded} bytes encoded", case.name);
            let answer = hub.post(&xml).await;
            if answer.status == StatusCode::PAYLOAD_TOO_LARGE {
                Ok(())
            } else {
                Err(format!("expected 413, got {} {:?}", answer.status, answer.message))
            }
        }
    }
}

/// The replay case on a hub of its own: the first presentation signs in and uses up the
/// pending login, so the same response again is a sign-in the hub did not start; and should
/// the hub wait for that request again, the replay cache in its store refuses the assertion.
async fn run_replay(fx: &Fixture, case: &Case, xml: &[u8]) -> Result<(), String> {
    let Expected::Exact(ValidationError::Replay { id }) = &case.expected else {
        return Err(format!("a replay case expecting {}", case.expected.describe()));
    };
    let hub = start(fx).await;
    hub.clock.set(case.context.now);
    hub.pending_login(case.context.request_id.as_deref()).await;
    expect_signed_in(&hub.post(xml).await).map_err(|e| format!("first presentation: {e}"))?;
    expect_refused(&hub.post(xml).await, StatusCode::FORBIDDEN, NOT_STARTED)
        .map_err(|e| format!("second presentation: {e}"))?;
    hub.pending_login(case.context.request_id.as_deref()).await;
    expect_refused(&hub.post(xml).await, StatusCode::FORBIDDEN, &format!("Assertion {id} was already used (replay)."))
        .map_err(|e| format!("third presentation, request pending again: {e}"))
}

#[tokio::test]
async fn the_acs_refuses_every_attack_with_its_specific_error() {
    let started = std::time::Instant::now();
    let fx = Fixture::new();
    let cases = corpus::corpus(&fx);
    assert!(cases.len() >= 90, "only {} cases", cases.len());
    // The list docs/attacks.md shows is the one this test checks.
    let documented: BTreeSet<&str> = corpus::HUB_ACS_ANSWERS.iter().map(|(name, _)| *name).collect();
    assert_eq!(documented.len(), corpus::HUB_ACS_ANSWERS.len(), "a case listed twice");
    let otherwise: BTreeSet<&str> = cases.iter().filter(|c| answered_otherwise(c)).map(|c| c.name).collect();
    assert_eq!(documented, otherwise, "corpus::HUB_ACS_ANSWERS and this test's deviations disagree");
    let hub = start(&fx).await;

    // The control: the untouched response signs alice in (on its own hub, as it is then used).
    let control = start(&fx).await;
    control.pending_login(Some(REQUEST_ID)).await;
    expect_signed_in(&control.post(fx.valid().as_bytes()).await).unwrap();
    // At the end of its validity plus the skew it is refused: the hub's clock decides.
    control.clock.set(Fixture::t0().plus_seconds(300 + corpus::SKEW));
    control.pending_login(Some(REQUEST_ID)).await;
    let late = control.post(fx.signed(crossfed_saml::SignedParts::Both).as_bytes()).await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    assert!(late.message.starts_with(&format!("{REFUSED}the subject confirmation expired")), "{}", late.message);

    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run(&fx, &hub, case).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    println!(
        "{} corpus cases through the hub's ACS in {:.1?}; answered otherwise: {otherwise:?}",
        cases.len(),
        started.elapsed()
    );
}
