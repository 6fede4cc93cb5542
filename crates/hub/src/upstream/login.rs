//! Signing in at the upstream IdP, the hub's side: a signed AuthnRequest kept server-side by its
//! ID and bound to the browser that started it ([`crate::browsers`]), then the IdP's answer —
//! taken only in that browser — validated at the hub's clock, checked against replays and
//! turned into a directory user. A console test sign-in stops before that: what the
//! IdP sent is kept for the console to show, and nobody is signed in.

use crossfed_clock::Clock;
use crossfed_saml::{
    Accepted, BindingError, DeferredReplayCheck, SpPolicy, Timestamp, ValidationError, decode_post, validate_response,
};
use crossfed_store::{ObjectKey, ObjectStore, Outcome, ReplayStore, Store, StoreError, User, UserStore};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{IdentitySource, SourceError, user_for_assertion, user_name_of};
use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use crate::browsers::{BrowserKey, is_bound_to};
use crate::cpu_pool::PoolError;
use crate::directory::Directory;
use crate::keys::KeyRing;
use crate::records::kinds::{PENDING_LOGIN, TEST_LOGIN};
use crate::records::{PENDING_SECONDS, SCOPE, insert_json, new_token, read_json};

/// A login sent to the upstream IdP, found again by its request ID.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    request_id: String,
    next: String,
    expires: i64,
    /// A test login from the admin console (by this actor): the answer is shown, not signed in.
    #[serde(default)]
    test_by: Option<String>,
    /// The digest of the key of the browser that started it; only that browser may finish it.
    #[serde(default)]
    browser: String,
}

/// What a console test login received from the upstream IdP, as shown afterwards.
#[derive(Debug, Serialize, Deserialize)]
pub struct TestLogin {
    pub id: String,
    pub at: i64,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub session_index: Option<String>,
    pub not_on_or_after: String,
    pub response_signed: bool,
    pub assertion_signed: bool,
    pub certificate_sha256: String,
    pub attributes: Vec<(String, Vec<String>)>,
    /// The hub user name these claims map to, and whether that user exists now.
    pub user_name: String,
    pub user_exists: bool,
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error("{0}")]
    Request(#[from] SourceError),
    #[error("signing the request: {0}")]
    Pool(#[from] PoolError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Why the IdP's answer was not accepted.
#[derive(Debug, Error)]
pub enum AnswerRefused {
    #[error("{0}")]
    Undecodable(#[from] BindingError),
    #[error(
        "The identity provider answered a sign-in this hub did not start, or one that expired or was already completed. Sign in again."
    )]
    NotPending,
    #[error(
        "The identity provider's answer arrived in a browser other than the one that started this sign-in, so nobody was signed in. Start the sign-in again in this browser."
    )]
    OtherBrowser,
    #[error("{0}")]
    Misconfigured(SourceError),
    #[error("The identity provider's response was refused: {0}")]
    Invalid(#[from] ValidationError),
    #[error("Assertion {0} was already used (replay).")]
    Replayed(String),
    #[error("{0}")]
    Unavailable(#[from] StoreError),
    #[error("the answer's audit record could not be stored ({0}); nothing is shown or signed in: try again shortly")]
    Unrecorded(#[from] AuditError),
    #[error("{0}")]
    User(SourceError),
}

/// What the IdP's accepted answer leads to.
#[derive(Debug)]
pub enum Answered {
    /// Sign `user` in and go to `next`.
    SignIn { user: Box<User>, accepted: Box<Accepted>, next: String },
    /// A console test: the result is kept as test login `id`.
    Tested { id: String },
}

/// The upstream logins of one identity source, with what they need of the hub.
pub struct UpstreamLogins<'a> {
    pub source: &'a IdentitySource,
    pub store: &'a Store,
    pub directory: &'a Directory,
    pub keys: &'a KeyRing,
    pub audit: &'a Auditor,
    pub clock: &'a Clock,
}

impl UpstreamLogins<'_> {
    /// A signed AuthnRequest to the upstream IdP, kept server-side by its ID with where to go
    /// after (`next`), the browser that may finish it and, for a console test, who asked;
    /// returns the URL to send the browser to.
    pub async fn start(
        &self,
        next: String,
        force: bool,
        test_by: Option<String>,
        browser: &BrowserKey,
    ) -> Result<String, StartError> {
        let request = self.source.login_request(force, Timestamp::from(self.clock.now()))?;
        let key = self.keys.signing_key();
        let (request_id, url) = crate::cpu_pool::signing().run(move || request.sign(&key, None)).await??;
        let now = self.clock.unix();
        let pending = PendingLogin {
            request_id: request_id.clone(),
            next,
            expires: now + PENDING_SECONDS,
            test_by,
            browser: browser.digest(),
        };
        let key = ObjectKey { kind: PENDING_LOGIN, scope: SCOPE, name_key: &request_id, id: &request_id };
        insert_json(self.store, key, &pending, now).await?;
        Ok(url)
    }

    /// The IdP's answer (the posted `SAMLResponse`) in the browser presenting `browser`, judged
    /// at the hub's clock.
    pub async fn answer(&self, saml_response: &str, browser: Option<&BrowserKey>) -> Result<Answered, AnswerRefused> {
        let xml = decode_post(saml_response)?;
        let (request_id, next, test_by) = match in_response_to(&xml) {
            Some(id) => {
                let pending = self.pending_in(&id, browser).await?;
                (Some(pending.request_id), pending.next, pending.test_by)
            }
            None => (None, "/portal".to_string(), None),
        };
        let now = Timestamp::from(self.clock.now());
        let certificates = self.source.idp_certificates(now).map_err(AnswerRefused::Misconfigured)?;
        let idp_entity_id = self.source.idp().entity_id.clone();
        let mut policy = SpPolicy::new(&self.source.sp_entity_id, &self.source.acs_url, &idp_entity_id, &certificates);
        policy.allow_unsolicited = self.source.allow_idp_initiated;
        let replay = DeferredReplayCheck::default();
        let accepted = validate_response(&xml, &policy, request_id.as_deref(), now, &replay)?;
        if let Some((id, expires)) = replay.take() {
            // The entry's expiry comes from the assertion's times: compared at the same clock.
            let first =
                self.store.record_once(&format!("{}:{id}", accepted.issuer), expires.unix(), now.unix()).await?;
            if !first {
                return Err(AnswerRefused::Replayed(id));
            }
        }
        if let Some(actor) = test_by {
            return Ok(Answered::Tested { id: self.keep_test(&actor, &accepted).await? });
        }
        match user_for_assertion(self.store, self.directory, self.source, &accepted).await {
            Ok(user) => Ok(Answered::SignIn { user: Box::new(user), accepted: Box::new(accepted), next }),
            Err(e) => {
                let (actor, detail) = (user_name_of(&accepted), format!("from {}: {e}", accepted.issuer));
                self.audit.note(&actor, "login", None, Outcome::Failure, detail).await;
                Err(AnswerRefused::User(e))
            }
        }
    }

    /// Takes the pending login `id` if `browser` started it: an answer arriving in another
    /// browser leaves it for the browser that did.
    async fn pending_in(&self, id: &str, browser: Option<&BrowserKey>) -> Result<PendingLogin, AnswerRefused> {
        let now = self.clock.unix();
        match read_json::<PendingLogin>(self.store, PENDING_LOGIN, id).await? {
            Some(p) if p.expires > now && !is_bound_to(&p.browser, browser) => Err(AnswerRefused::OtherBrowser),
            // One use: whoever deletes it answers it.
            Some(p) if p.expires > now => match self.store.delete_object(PENDING_LOGIN, id).await {
                Ok(()) => Ok(p),
                // Another answer took it first.
                Err(StoreError::NotFound { .. }) => Err(AnswerRefused::NotPending),
                Err(e) => Err(AnswerRefused::Unavailable(e)),
            },
            _ => Err(AnswerRefused::NotPending),
        }
    }

    /// Keeps what a console test login received, audited as `actor`; returns its ID.
    async fn keep_test(&self, actor: &str, accepted: &Accepted) -> Result<String, AnswerRefused> {
        let user_name = user_name_of(accepted);
        let user_exists = matches!(self.store.find_user_by_name(&user_name).await, Ok(Some(_)));
        let test = TestLogin {
            id: new_token(),
            at: self.clock.unix(),
            issuer: accepted.issuer.clone(),
            name_id: accepted.name_id.value.clone(),
            name_id_format: accepted.name_id.format.clone(),
            session_index: accepted.session_index.clone(),
            not_on_or_after: accepted.not_on_or_after.clone(),
            response_signed: accepted.response_signed,
            assertion_signed: accepted.assertion_signed,
            certificate_sha256: accepted.certificate_sha256.clone(),
            attributes: accepted.attributes.iter().map(|a| (a.name.clone(), a.values.clone())).collect(),
            user_name,
            user_exists,
        };
        let key = ObjectKey { kind: TEST_LOGIN, scope: SCOPE, name_key: &test.id, id: &test.id };
        insert_json(self.store, key, &test, test.at).await?;
        let detail = format!("NameID {}", test.name_id);
        self.audit.record(actor, "identity-source.test", Some(&test.issuer), Outcome::Success, detail).await?;
        Ok(test.id)
    }
}

/// A console test login's result, if it is still kept.
pub async fn test_login(store: &Store, id: &str) -> Option<TestLogin> {
    read_json(store, TEST_LOGIN, id).await.ok().flatten()
}

/// The unverified InResponseTo of a Response: only used to find the pending request, whose ID
/// validation then requires the signed assertion to answer.
fn in_response_to(xml: &[u8]) -> Option<String> {
    let doc = crossfed_xml::parse(xml).ok()?;
    doc.root_element().attr("InResponseTo").map(str::to_string)
}
