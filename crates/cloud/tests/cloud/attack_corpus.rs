//! The attack corpus through the account's sign-in endpoint (`POST /saml`, over HTTP): every case
//! is refused, and the error page carries the case's own error with the code AWS gives it. AWS
//! sign-in is an SP of its own kind (it never sends AuthnRequests, so it takes IdP-initiated
//! responses and does not check InResponseTo; it finds the SAML provider from the assertion's
//! Role attribute before validating); `account_deviation` lists the cases it answers otherwise,
//! each with the answer it gives instead.
//!
//! The cases are built for this account: the audience and recipient are its sign-in URL, and
//! every assertion carries a Role attribute granting a role through the provider that trusts
//! the corpus's IdP. The account's clock is fixed at the instant each case is validated at.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A crate root resolves `mod` next to itself; the corpus lives with the saml crate's tests.
use crossfed_attacks as corpus;

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use corpus::{Case, Expected, Fixture, IDP, Input};
use crossfed_cloud::config::{CloudConfig, ProviderConfig, RoleConfig};
use crossfed_cloud::sts::{ROLE_ATTRIBUTE, ROLE_SESSION_NAME_ATTRIBUTE};
use crossfed_cloud::{App, Clock, Settings};
use crossfed_saml::{
    Attribute, Endpoint, EntityDescriptor, MemoryReplayCache, SignatureRequirement, SpPolicy, ValidationError,
    decode_redirect, validate_response,
};
use reqwest::StatusCode;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// The account's URL as configured; it listens on a loopback port, and the URLs assertions name
/// are only compared.
const BASE_URL: &str = "https://cloud.example.com";
/// The sign-in URL: the corpus's SP (audience) and ACS (Destination, Recipient) for this account.
const SIGN_IN: &str = "https://cloud.example.com/saml";
const PROVIDER: &str = "Corp";
const ROLE: &str = "CorpAgent";
/// The account's request body limit (`crossfed_cloud::state::MAX_BODY_BYTES`).
const BODY_LIMIT: usize = crossfed_cloud::state::MAX_BODY_BYTES;
const NO_PROVIDER: &str = "Your request included an invalid SAML response: it has no https://aws.amazon.com/SAML/Attributes/Role attribute naming a SAML provider (InvalidIdentityToken)";

/// Where the sign-in endpoint does not answer with the case's expected error, and why.
#[derive(Debug)]
enum Deviation {
    /// Not an attack on AWS sign-in, which sends no requests: it accepts any InResponseTo and
    /// unsolicited responses, as the real one does; accepted.
    NoRequests,
    /// The case requires a stronger signature than the account's policy (an assertion covered by
    /// a signature): accepted when the assertion is signed.
    AccountPolicyAccepts,
    /// Refused with the error the account's policy gives.
    AccountPolicy(ValidationError),
    /// No saml:Assertion child carrying a Role attribute: no SAML provider to validate with, so
    /// refused before validation.
    NoProvider,
    /// Larger than the account takes in a request body: refused before the form is read.
    BodyTooLarge,
    /// The POST value is over the binding's size bound: refused while decoding it.
    Undecodable(crossfed_saml::BindingError),
}

fn account_deviation(name: &str) -> Option<Deviation> {
    match name {
        "wrong-in-response-to"
        | "response-to-no-pending-request"
        | "unsolicited-when-disallowed"
        | "unsigned-in-response-to-edited" => Some(Deviation::NoRequests),
        "response-signature-stripped-when-required" => Some(Deviation::AccountPolicyAccepts),
        "signature-exclusion-with-assertion-signature-required" => {
            Some(Deviation::AccountPolicy(ValidationError::Unsigned {
                required: SignatureRequirement::AssertionCovered,
            }))
        }
        "saml-prefix-redefined-on-assertion"
        | "assertion-in-saml1-namespace"
        | "encrypted-assertion-instead-of-assertion"
        | "signed-failure-response-is-a-failure" => Some(Deviation::NoProvider),
        "oversized-input" => Some(Deviation::BodyTooLarge),
        "too-many-nodes" => Some(Deviation::Undecodable(crossfed_saml::BindingError::TooLarge {
            limit: crossfed_saml::MAX_MESSAGE_BYTES,
        })),
        _ => None,
    }
}

/// Whether the case is answered otherwise than with its expected error: by the table above, as
/// a second presentation, or as an HTTP-Redirect message.
fn answered_otherwise(case: &Case) -> bool {
    account_deviation(case.name).is_some() || case.context.replay_first || matches!(case.input, Input::Redirect(_))
}

fn provider_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:saml-provider/{PROVIDER}")
}

/// The cases addressed to this account, each assertion granting [`ROLE`] through [`PROVIDER`].
fn fixture() -> Fixture {
    let role = format!("arn:aws:iam::{ACCOUNT}:role/{ROLE},{}", provider_arn());
    Fixture::for_sp(
        SIGN_IN,
        SIGN_IN,
        vec![
            Attribute::uri(ROLE_ATTRIBUTE, vec![role]),
            Attribute::uri(ROLE_SESSION_NAME_ATTRIBUTE, vec!["alice".into()]),
        ],
    )
}

struct Account {
    url: String,
    /// A clone of the account's fixed clock.
    clock: Clock,
    client: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// An account whose SAML provider trusts the fixture's IdP, with a role federated through it;
/// its clock fixed at the corpus's validation instant.
async fn start(fx: &Fixture) -> Account {
    let store = crossfed_testkit::test_store("cloud-attacks").await;
    let settings = Settings::new(ACCOUNT, REGION, BASE_URL);
    assert_eq!(settings.signin_urls.first().map(String::as_str), Some(SIGN_IN));
    let mut app = App::new(store, settings, "AKIAADMINEXAMPLE0001", "admin/secret/for/tests/only");
    let clock = Clock::fixed(Fixture::now());
    app.clock = clock.clone();
    let idp = EntityDescriptor::idp(
        IDP,
        vec![fx.idp_key.certificate().clone()],
        vec![Endpoint::redirect("https://corp.example.com/sso")],
    );
    let config = CloudConfig {
        saml_providers: vec![ProviderConfig::from_xml(PROVIDER, idp.to_xml())],
        roles: vec![RoleConfig {
            name: ROLE.to_string(),
            max_session_duration: 3600,
            trust_policy: None,
            trust_saml_provider: Some(PROVIDER.to_string()),
            inline_policies: Default::default(),
            connect_federation: Vec::new(),
        }],
        ..CloudConfig::default()
    };
    crossfed_cloud::config::apply(&app, &config, app.now()).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(crossfed_cloud::serve(listener, Arc::new(app), async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Account { url, clock, client, _shutdown: shutdown }
}

/// What came back: status, Location, and the error page's message (unescaped) or the body.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    message: String,
}

impl Account {
    async fn post(&self, xml: &[u8]) -> Answer {
        let form = [("SAMLResponse", STANDARD.encode(xml))];
        answer(self.client.post(format!("{}/saml", self.url)).form(&form).send().await.unwrap()).await
    }

    async fn get(&self, query: &str) -> Answer {
        answer(self.client.get(format!("{}/saml?{query}", self.url)).send().await.unwrap()).await
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_string());
    let body = response.text().await.unwrap();
    let message = match body.split_once("<p id=\"message\">") {
        Some((_, rest)) => crossfed_testkit::browser::unescape(rest.split("</p>").next().unwrap()),
        None => body,
    };
    Answer { status, location, message }
}

/// The status and message the sign-in endpoint shows for a validation error: the API error AWS
/// gives it, and its code.
fn refusal(error: &ValidationError) -> (StatusCode, String) {
    let (status, code, message) = match error {
        ValidationError::Expired { .. }
        | ValidationError::ConfirmationExpired { .. }
        | ValidationError::SessionExpired(_) => (400, "ExpiredTokenException", "The SAML assertion has expired"),
        ValidationError::Status { .. } => (403, "IDPRejectedClaim", "The identity provider reported a failure"),
        _ => (400, "InvalidIdentityToken", "The SAML assertion is not valid"),
    };
    (StatusCode::from_u16(status).unwrap(), format!("{message}: {error} ({code})"))
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
    if answer.status == StatusCode::SEE_OTHER && answer.location.as_deref() == Some(&format!("{BASE_URL}/console")) {
        Ok(())
    } else {
        Err(format!("expected a sign-in (303 to the console), got {} {:?}", answer.status, answer.message))
    }
}

/// What the library answers under the account's policy, as the sign-in endpoint sets it: its
/// sign-in URLs as ACS and audience (and urn:amazon:webservices), InResponseTo not checked,
/// IdP-initiated login allowed, the default signature requirement.
fn account_policy_result(fx: &Fixture, xml: &[u8], case: &Case) -> Result<crossfed_saml::Accepted, ValidationError> {
    let certs = vec![fx.idp_key.certificate().clone()];
    let settings = Settings::new(ACCOUNT, REGION, BASE_URL);
    let audiences = vec![crossfed_cloud::sts::AWS_AUDIENCE.to_string()];
    let extra_urls: Vec<String> = settings.signin_urls.iter().skip(1).cloned().collect();
    let mut policy = SpPolicy::new(SIGN_IN, SIGN_IN, IDP, &certs);
    policy.extra_audiences = &audiences;
    policy.extra_acs_urls = &extra_urls;
    policy.ignore_in_response_to = true;
    policy.allow_unsolicited = true;
    validate_response(xml, &policy, None, case.context.now, &MemoryReplayCache::default())
}

async fn run(fx: &Fixture, account: &Account, case: &Case) -> Result<(), String> {
    account.clock.set(case.context.now);
    let xml = match &case.input {
        Input::Redirect(query) => {
            // AWS sign-in takes Responses by HTTP-POST only (as the Web SSO profile has them).
            let answer = account.get(query).await;
            if answer.status != StatusCode::METHOD_NOT_ALLOWED {
                return Err(format!("GET /saml answered {} {:?}", answer.status, answer.message));
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
    match account_deviation(case.name) {
        None => {
            if case.context.signatures != SignatureRequirement::default() {
                return Err("the case asks for another signature policy than the account's; list it".to_string());
            }
            let Err(error) = account_policy_result(fx, &xml, case) else {
                return Err("the library accepts it under the account's policy".to_string());
            };
            if !case.expected.matches_validation(&error) {
                return Err(format!("the library gives {error:?}, not {}", case.expected.describe()));
            }
            let (status, message) = refusal(&error);
            expect_refused(&account.post(&xml).await, status, &message)
        }
        Some(Deviation::NoRequests | Deviation::AccountPolicyAccepts) => {
            account_policy_result(fx, &xml, case).map_err(|e| format!("the library refuses it: {e:?}"))?;
            // On an account of its own: accepting it records the assertion ID other cases reuse.
            let own = start(fx).await;
            own.clock.set(case.context.now);
            expect_signed_in(&own.post(&xml).await)
        }
        Some(Deviation::AccountPolicy(error)) => {
            assert_eq!(account_policy_result(fx, &xml, case).err(), Some(error.clone()), "{}", case.name);
            let (status, message) = refusal(&error);
            expect_refused(&account.post(&xml).await, status, &message)
        }
        Some(Deviation::NoProvider) => expect_refused(&account.post(&xml).await, StatusCode::BAD_REQUEST, NO_PROVIDER),
        Some(Deviation::BodyTooLarge) => {
            let encoded = STANDARD.encode(&xml).len();
            assert!(encoded > BODY_LIMIT, "{}: {encoded} bytes encoded", case.name);
            let answer = account.post(&xml).await;
            if answer.status == StatusCode::PAYLOAD_TOO_LARGE {
                Ok(())
            } else {
                Err(format!("expected 413, got {} {:?}", answer.status, answer.message))
            }
        }
        Some(Deviation::Undecodable(error)) => {
            let message = format!("The SAMLResponse value cannot be decoded: {error} (InvalidIdentityToken)");
            expect_refused(&account.post(&xml).await, StatusCode::BAD_REQUEST, &message)
        }
    }
}

/// The replay case on an account of its own: the first presentation signs in, the second is
/// refused by the replay cache in the account's store.
async fn run_replay(fx: &Fixture, case: &Case, xml: &[u8]) -> Result<(), String> {
    let Expected::Exact(ValidationError::Replay { id }) = &case.expected else {
        return Err(format!("a replay case expecting {}", case.expected.describe()));
    };
    let account = start(fx).await;
    account.clock.set(case.context.now);
    expect_signed_in(&account.post(xml).await).map_err(|e| format!("first presentation: {e}"))?;
    let message = format!(
        "The SAML assertion {id} was already used; sign in again at the identity provider (InvalidIdentityToken)"
    );
    expect_refused(&account.post(xml).await, StatusCode::BAD_REQUEST, &message)
        .map_err(|e| format!("second presentation: {e}"))
}

#[tokio::test]
async fn the_sign_in_endpoint_refuses_every_attack_with_its_specific_error() {
    let started = std::time::Instant::now();
    let fx = fixture();
    let cases = corpus::corpus(&fx);
    assert!(cases.len() >= 90, "only {} cases", cases.len());
    // The list docs/attacks.md shows is the one this test checks.
    let documented: BTreeSet<&str> = corpus::SIGN_IN_ANSWERS.iter().map(|(name, _)| *name).collect();
    assert_eq!(documented.len(), corpus::SIGN_IN_ANSWERS.len(), "a case listed twice");
    let otherwise: BTreeSet<&str> = cases.iter().filter(|c| answered_otherwise(c)).map(|c| c.name).collect();
    assert_eq!(documented, otherwise, "corpus::SIGN_IN_ANSWERS and this test's deviations disagree");
    let account = start(&fx).await;

    // The control: the untouched response signs in (on an account of its own, as it is then used).
    let control = start(&fx).await;
    expect_signed_in(&control.post(fx.valid().as_bytes()).await).unwrap();
    // At the end of its validity plus the skew it is refused as expired: the account's clock decides.
    control.clock.set(Fixture::t0().plus_seconds(300 + corpus::SKEW));
    let late = control.post(fx.signed(crossfed_saml::SignedParts::Both).as_bytes()).await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert!(
        late.message.starts_with("The SAML assertion has expired: the subject confirmation expired"),
        "{}",
        late.message
    );
    assert!(late.message.ends_with("(ExpiredTokenException)"), "{}", late.message);

    let mut failures = Vec::new();
    for case in &cases {
        if let Err(why) = run(&fx, &account, case).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    println!(
        "{} corpus cases through the sign-in endpoint in {:.1?}; answered otherwise: {otherwise:?}",
        cases.len(),
        started.elapsed()
    );
}
