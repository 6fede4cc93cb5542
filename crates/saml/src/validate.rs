//! SP-side validation of a Response: one function, `now` passed in, every failure its own
//! error variant saying what was expected and what was found. Fields of the assertion are read
//! only through the view of the element whose signature verified; identity values are taken
//! exactly as signed (`identity.rs`), and nothing the SAML 2.0 schemas do not allow may sit in
//! the Response (`schema.rs`).

use std::collections::HashMap;
use std::sync::Mutex;

use crossfed_xml::{Element, XmlError};
use crossfed_xmldsig::{
    AlgorithmPolicy, Certificate, DsigError, SignedView, VerifiedElement, VerifyOptions, verify_enveloped,
};
use thiserror::Error;

use crate::identity::{SurroundingWhitespace, exact};
use crate::ns;
use crate::response::{Attribute, NameId};
use crate::schema::{SchemaError, check_response};
use crate::timestamp::Timestamp;

/// Which signatures the SP insists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum SignatureRequirement {
    /// The assertion must be covered: signed itself, or inside a signed Response.
    #[default]
    AssertionCovered,
    AssertionSigned,
    ResponseSigned,
    Both,
}

/// What the SP knows and expects.
#[derive(Debug, Clone)]
pub struct SpPolicy<'a> {
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub idp_entity_id: &'a str,
    pub idp_certificates: &'a [Certificate],
    pub signatures: SignatureRequirement,
    pub clock_skew_seconds: i64,
    pub allow_unsolicited: bool,
    /// For SPs that never send AuthnRequests (AWS sign-in): accept any InResponseTo.
    pub ignore_in_response_to: bool,
    /// Audiences accepted besides `sp_entity_id`.
    pub extra_audiences: &'a [String],
    /// Recipient / Destination URLs accepted besides `acs_url` (an SP with several endpoints).
    pub extra_acs_urls: &'a [String],
    pub algorithms: AlgorithmPolicy,
    pub limits: crossfed_xml::Limits,
}

impl<'a> SpPolicy<'a> {
    /// The defaults: assertion covered by a signature, 120 s of clock skew, unsolicited
    /// responses refused, no SHA-1.
    pub fn new(
        sp_entity_id: &'a str,
        acs_url: &'a str,
        idp_entity_id: &'a str,
        idp_certificates: &'a [Certificate],
    ) -> Self {
        SpPolicy {
            sp_entity_id,
            acs_url,
            idp_entity_id,
            idp_certificates,
            signatures: SignatureRequirement::default(),
            clock_skew_seconds: 120,
            allow_unsolicited: false,
            ignore_in_response_to: false,
            extra_audiences: &[],
            extra_acs_urls: &[],
            algorithms: AlgorithmPolicy::default(),
            limits: crossfed_xml::Limits::default(),
        }
    }
}

impl SpPolicy<'_> {
    fn is_acs_url(&self, url: &str) -> bool {
        url == self.acs_url || self.extra_acs_urls.iter().any(|u| u == url)
    }

    fn is_audience(&self, audience: &str) -> bool {
        audience == self.sp_entity_id || self.extra_audiences.iter().any(|a| a == audience)
    }
}

/// Remembers assertion IDs until they expire, so each assertion is accepted once.
pub trait ReplayCache {
    /// Records `id` until `expires`; returns false if it was already recorded.
    fn insert_if_new(&self, id: &str, expires: Timestamp, now: Timestamp) -> Result<bool, String>;
}

/// A process-local replay cache (the hub uses its store instead, shared by all instances).
#[derive(Debug, Default)]
pub struct MemoryReplayCache {
    seen: Mutex<HashMap<String, Timestamp>>,
}

impl ReplayCache for MemoryReplayCache {
    fn insert_if_new(&self, id: &str, expires: Timestamp, now: Timestamp) -> Result<bool, String> {
        let mut seen = self.seen.lock().map_err(|_| "replay cache lock poisoned".to_string())?;
        seen.retain(|_, e| *e > now);
        if seen.contains_key(id) {
            return Ok(false);
        }
        seen.insert(id.to_string(), expires);
        Ok(true)
    }
}

/// A replay cache for callers whose real cache is asynchronous (a database): validation records
/// the assertion ID here, and the caller then stores it, refusing the assertion if it was seen.
#[derive(Debug, Default)]
pub struct DeferredReplayCheck {
    recorded: Mutex<Option<(String, Timestamp)>>,
}

impl DeferredReplayCheck {
    /// The assertion ID and its expiry, once validation accepted everything else.
    pub fn take(self) -> Option<(String, Timestamp)> {
        self.recorded.into_inner().ok().flatten()
    }
}

impl ReplayCache for DeferredReplayCheck {
    fn insert_if_new(&self, id: &str, expires: Timestamp, _now: Timestamp) -> Result<bool, String> {
        let mut recorded = self.recorded.lock().map_err(|_| "replay recorder lock poisoned".to_string())?;
        *recorded = Some((id.to_string(), expires));
        Ok(true)
    }
}

/// Why a Response was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    #[error("the response is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error("expected a samlp:Response, found <{found}>")]
    NotAResponse { found: String },
    #[error("unsupported SAML version {found:?} on {element}; expected \"2.0\"")]
    Version { element: &'static str, found: String },
    #[error("the Response signature is invalid: {0}")]
    ResponseSignature(DsigError),
    #[error("the Assertion signature is invalid: {0}")]
    AssertionSignature(DsigError),
    #[error("the IdP answered with status {code}{}{}", .sub_code.as_ref().map(|s| format!(" / {s}")).unwrap_or_default(), .message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status { code: String, sub_code: Option<String>, message: Option<String> },
    #[error("Destination is {found:?}, expected this SP's ACS URL {expected:?}")]
    Destination { expected: String, found: Option<String> },
    #[error("{element} Issuer is {found:?}, expected the IdP entity ID {expected:?}")]
    Issuer { element: &'static str, expected: String, found: Option<String> },
    #[error("InResponseTo is {found:?}, expected the ID of our request {expected:?}")]
    InResponseTo { expected: String, found: Option<String> },
    #[error(
        "unsolicited response (no InResponseTo) refused; allow IdP-initiated login in the configuration to accept it"
    )]
    Unsolicited,
    #[error("the response answers request {found:?}, but no request is pending for this login")]
    UnexpectedInResponseTo { found: String },
    #[error("encrypted assertions are not supported; configure the IdP to send plain signed assertions over HTTPS")]
    EncryptedAssertion,
    #[error("the response must contain exactly one Assertion, found {found}")]
    AssertionCount { found: usize },
    #[error(
        "the assertion is not signed and the response signature is required to cover it; the policy requires {required:?}"
    )]
    Unsigned { required: SignatureRequirement },
    #[error("the Assertion must be signed (policy {required:?})")]
    AssertionNotSigned { required: SignatureRequirement },
    #[error("the Response must be signed (policy {required:?})")]
    ResponseNotSigned { required: SignatureRequirement },
    #[error(transparent)]
    Identity(#[from] SurroundingWhitespace),
    #[error("the response does not follow the SAML 2.0 schema: {0}")]
    Schema(#[from] SchemaError),
    #[error("the assertion has no Subject/NameID")]
    NoNameId,
    #[error("encrypted NameIDs are not supported")]
    EncryptedNameId,
    #[error("the assertion has no bearer SubjectConfirmation")]
    NoBearerConfirmation,
    #[error("SubjectConfirmationData Recipient is {found:?}, expected this SP's ACS URL {expected:?}")]
    Recipient { expected: String, found: Option<String> },
    #[error("SubjectConfirmationData has no NotOnOrAfter; a bearer confirmation must expire")]
    ConfirmationWithoutExpiry,
    #[error("the subject confirmation expired at {not_on_or_after} (now {now}, skew {skew_seconds}s)")]
    ConfirmationExpired { not_on_or_after: String, now: String, skew_seconds: i64 },
    #[error("the subject confirmation is not valid before {not_before} (now {now}, skew {skew_seconds}s)")]
    ConfirmationNotYetValid { not_before: String, now: String, skew_seconds: i64 },
    #[error("the assertion has no Conditions")]
    NoConditions,
    #[error("the assertion is not valid before {not_before} (now {now}, skew {skew_seconds}s); check the clocks")]
    NotYetValid { not_before: String, now: String, skew_seconds: i64 },
    #[error("the assertion expired at {not_on_or_after} (now {now}, skew {skew_seconds}s)")]
    Expired { not_on_or_after: String, now: String, skew_seconds: i64 },
    #[error("the assertion is for audience {found:?}, not this SP {expected:?}")]
    Audience { expected: String, found: Vec<String> },
    #[error("the assertion has no AudienceRestriction; it must name this SP")]
    NoAudienceRestriction,
    #[error("unknown condition <{0}> in the assertion; it cannot be evaluated, so the assertion is refused")]
    UnknownCondition(String),
    #[error("the assertion has no AuthnStatement")]
    NoAuthnStatement,
    #[error("the IdP session ended at {0}")]
    SessionExpired(String),
    #[error("invalid time {value:?} in {field}")]
    BadTime { field: &'static str, value: String },
    #[error("{field} is required but missing")]
    Missing { field: &'static str },
    #[error("assertion {id} was already used (replay)")]
    Replay { id: String },
    #[error("the replay cache failed: {0}")]
    ReplayCache(String),
}

/// One check that passed, for `crossfed saml validate` and debugging pages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub detail: String,
}

/// An accepted assertion: what the SP may act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Accepted {
    pub response_id: Option<String>,
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: NameId,
    pub session_index: Option<String>,
    pub authn_instant: Option<String>,
    pub session_not_on_or_after: Option<String>,
    pub not_on_or_after: String,
    pub attributes: Vec<Attribute>,
    pub in_response_to: Option<String>,
    /// The Recipient of the bearer confirmation that was accepted (AWS derives `SAML:aud` from it).
    pub recipient: String,
    pub response_signed: bool,
    pub assertion_signed: bool,
    /// SHA-256 fingerprint of the certificate that verified the covering signature.
    pub certificate_sha256: String,
}

impl Accepted {
    /// The values of the attribute named `name`, if present.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes.iter().find(|a| a.name == name).map(|a| a.values.as_slice())
    }
}

/// Validates `xml` (the decoded Response) at `now`; `request_id` is the ID of the AuthnRequest
/// this login started with, or None for IdP-initiated login.
pub fn validate_response(
    xml: &[u8],
    policy: &SpPolicy<'_>,
    request_id: Option<&str>,
    now: Timestamp,
    replay: &dyn ReplayCache,
) -> Result<Accepted, ValidationError> {
    validate_response_traced(xml, policy, request_id, now, replay, &mut Vec::new())
}

/// [`validate_response`], recording each check that passed into `trace`.
pub fn validate_response_traced(
    xml: &[u8],
    policy: &SpPolicy<'_>,
    request_id: Option<&str>,
    now: Timestamp,
    replay: &dyn ReplayCache,
    trace: &mut Vec<Check>,
) -> Result<Accepted, ValidationError> {
    let mut pass = |name: &'static str, detail: String| trace.push(Check { name, detail });
    let doc = crossfed_xml::parse_with_limits(xml, &policy.limits)?;
    pass("xml", "well-formed, no DTD, entities or processing instructions, within limits".to_string());
    let response = doc.root_element();
    if !response.is(ns::PROTOCOL, "Response") {
        return Err(ValidationError::NotAResponse { found: response.qualified_name() });
    }
    check_version(&response, "Response")?;

    let verify = VerifyOptions { algorithms: policy.algorithms, ..VerifyOptions::default() };
    let response_signature = match response.child(ns::DSIG, "Signature") {
        Some(_) => Some(
            verify_enveloped(&doc, response.id(), policy.idp_certificates, &verify)
                .map_err(ValidationError::ResponseSignature)?,
        ),
        None => None,
    };
    if let Some(v) = &response_signature {
        pass("response signature", format!("valid {:?} by {}", v.algorithm(), fingerprint(policy, v)));
    }

    // Status, Destination and InResponseTo are protocol fields of the Response; when it is
    // signed they are read through the verified view.
    let response_view: Option<SignedView<'_>> = response_signature.as_ref().map(VerifiedElement::view);
    let status_code = response
        .child(ns::PROTOCOL, "Status")
        .and_then(|s| s.child(ns::PROTOCOL, "StatusCode"))
        .ok_or(ValidationError::Missing { field: "Status/StatusCode" })?;
    let code = status_code.attr("Value").unwrap_or("");
    if code != ns::STATUS_SUCCESS {
        let sub_code = status_code.child(ns::PROTOCOL, "StatusCode").and_then(|s| s.attr("Value")).map(str::to_string);
        let message = response
            .child(ns::PROTOCOL, "Status")
            .and_then(|s| s.child(ns::PROTOCOL, "StatusMessage"))
            .and_then(|m| m.text().ok())
            .map(str::to_string);
        return Err(ValidationError::Status { code: code.to_string(), sub_code, message });
    }
    pass("status", "Success".to_string());

    let destination = response.attr("Destination");
    match destination {
        Some(d) if policy.is_acs_url(d) => pass("destination", d.to_string()),
        // A signed response must name its destination (SAML bindings §3.5.5.2).
        None if response_view.is_none() => pass("destination", "absent (allowed on unsigned responses)".to_string()),
        other => {
            return Err(ValidationError::Destination {
                expected: policy.acs_url.to_string(),
                found: other.map(str::to_string),
            });
        }
    }

    if let Some(issuer) = response.child(ns::ASSERTION, "Issuer") {
        let issuer = exact("Issuer", issuer.text()?)?;
        if issuer != policy.idp_entity_id {
            return Err(ValidationError::Issuer {
                element: "Response",
                expected: policy.idp_entity_id.to_string(),
                found: Some(issuer.to_string()),
            });
        }
        pass("response issuer", issuer.to_string());
    }

    let in_response_to = response.attr("InResponseTo");
    if policy.ignore_in_response_to {
        pass("in response to", "not checked (this SP sends no requests)".to_string());
    } else {
        check_in_response_to(in_response_to, request_id, policy.allow_unsolicited)?;
        pass("in response to", in_response_to.map_or("unsolicited (allowed)".to_string(), |v| v.to_string()));
    }

    // Exactly one assertion anywhere in the document, as a direct child of the Response.
    if doc.descendants().any(|e| e.is(ns::ASSERTION, "EncryptedAssertion")) {
        return Err(ValidationError::EncryptedAssertion);
    }
    let all_assertions = doc.descendants().filter(|e| e.is(ns::ASSERTION, "Assertion")).count();
    let direct: Vec<Element<'_>> = response.children_named(ns::ASSERTION, "Assertion").collect();
    let assertion = match (all_assertions, direct.as_slice()) {
        (1, [one]) => *one,
        (found, _) => return Err(ValidationError::AssertionCount { found }),
    };
    pass("assertion count", "exactly one".to_string());

    let assertion_signature = match assertion.child(ns::DSIG, "Signature") {
        Some(_) => Some(
            verify_enveloped(&doc, assertion.id(), policy.idp_certificates, &verify)
                .map_err(ValidationError::AssertionSignature)?,
        ),
        None => None,
    };
    if let Some(v) = &assertion_signature {
        pass("assertion signature", format!("valid {:?} by {}", v.algorithm(), fingerprint(policy, v)));
    }
    let required = policy.signatures;
    match (required, response_signature.is_some(), assertion_signature.is_some()) {
        (SignatureRequirement::AssertionCovered, false, false) => return Err(ValidationError::Unsigned { required }),
        (SignatureRequirement::AssertionSigned | SignatureRequirement::Both, _, false) => {
            return Err(ValidationError::AssertionNotSigned { required });
        }
        (SignatureRequirement::ResponseSigned | SignatureRequirement::Both, false, _) => {
            return Err(ValidationError::ResponseNotSigned { required });
        }
        _ => pass("signature policy", format!("{required:?} satisfied")),
    }

    // From here on, the assertion is read only through a verified view: its own signature's,
    // or the Response signature's (which covers it).
    let (view, covering) = match (&assertion_signature, &response_signature) {
        (Some(a), _) => (a.view(), a),
        (None, Some(r)) => {
            let view = r
                .view()
                .children_named(ns::ASSERTION, "Assertion")
                .next()
                .ok_or(ValidationError::AssertionCount { found: 0 })?;
            (view, r)
        }
        (None, None) => return Err(ValidationError::Unsigned { required }),
    };
    // Nothing the schemas do not allow may sit anywhere in the Response, signed or not. Checked
    // once the signatures verified, so a wrapping attack is named by the check it defeats.
    check_response(&doc)?;
    pass("schema", "only what the SAML 2.0 schemas allow, in their order; no XInclude".to_string());
    read_assertion(view, covering, policy, request_id, now, replay, response.attr("ID"), in_response_to, trace).map(
        |mut accepted| {
            accepted.response_signed = response_signature.is_some();
            accepted.assertion_signed = assertion_signature.is_some();
            accepted
        },
    )
}

fn fingerprint(policy: &SpPolicy<'_>, v: &VerifiedElement<'_>) -> String {
    policy
        .idp_certificates
        .get(v.certificate_index())
        .map_or_else(String::new, |c| format!("certificate sha256:{}", c.fingerprint_hex()))
}

fn check_version(e: &Element<'_>, element: &'static str) -> Result<(), ValidationError> {
    match e.attr("Version") {
        Some("2.0") => Ok(()),
        other => Err(ValidationError::Version { element, found: other.unwrap_or("").to_string() }),
    }
}

fn check_in_response_to(
    found: Option<&str>,
    request_id: Option<&str>,
    allow_unsolicited: bool,
) -> Result<(), ValidationError> {
    match (request_id, found) {
        (Some(expected), Some(found)) if expected == found => Ok(()),
        (Some(expected), found) => {
            Err(ValidationError::InResponseTo { expected: expected.to_string(), found: found.map(str::to_string) })
        }
        (None, Some(found)) => Err(ValidationError::UnexpectedInResponseTo { found: found.to_string() }),
        (None, None) if allow_unsolicited => Ok(()),
        (None, None) => Err(ValidationError::Unsolicited),
    }
}

/// The text of an identity-bearing element, exactly as signed (see [`exact`]).
fn identity_text<'d>(element: SignedView<'d>, name: &'static str) -> Result<&'d str, ValidationError> {
    Ok(exact(name, element.text()?)?)
}

/// A condition's name for the error, with the `xsi:type` an extension condition carries.
fn condition_name(condition: SignedView<'_>) -> String {
    match condition.attr_ns(ns::XSI, "type") {
        Some(t) => format!("{} xsi:type=\"{t}\"", condition.qualified_name()),
        None => condition.qualified_name(),
    }
}

fn parse_time(field: &'static str, value: &str) -> Result<Timestamp, ValidationError> {
    Timestamp::parse(value).ok_or_else(|| ValidationError::BadTime { field, value: value.to_string() })
}

#[allow(clippy::too_many_arguments)]
fn read_assertion(
    assertion: SignedView<'_>,
    covering: &VerifiedElement<'_>,
    policy: &SpPolicy<'_>,
    request_id: Option<&str>,
    now: Timestamp,
    replay: &dyn ReplayCache,
    response_id: Option<&str>,
    response_in_response_to: Option<&str>,
    trace: &mut Vec<Check>,
) -> Result<Accepted, ValidationError> {
    let mut pass = |name: &'static str, detail: String| trace.push(Check { name, detail });
    let skew = policy.clock_skew_seconds;
    match assertion.attr("Version") {
        Some("2.0") => {}
        other => return Err(ValidationError::Version { element: "Assertion", found: other.unwrap_or("").to_string() }),
    }
    let assertion_id = assertion.attr("ID").ok_or(ValidationError::Missing { field: "Assertion ID" })?;

    let issuer = assertion.child(ns::ASSERTION, "Issuer").map(|i| identity_text(i, "Issuer")).transpose()?;
    if issuer != Some(policy.idp_entity_id) {
        return Err(ValidationError::Issuer {
            element: "Assertion",
            expected: policy.idp_entity_id.to_string(),
            found: issuer.map(str::to_string),
        });
    }
    pass("assertion issuer", policy.idp_entity_id.to_string());

    // Subject: the NameID, and a bearer confirmation that fits this SP, now, and this request.
    let subject = assertion.child(ns::ASSERTION, "Subject").ok_or(ValidationError::NoNameId)?;
    if subject.child(ns::ASSERTION, "EncryptedID").is_some() {
        return Err(ValidationError::EncryptedNameId);
    }
    let name_id_element = subject.child(ns::ASSERTION, "NameID").ok_or(ValidationError::NoNameId)?;
    let name_id = NameId {
        value: identity_text(name_id_element, "NameID")?.to_string(),
        format: name_id_element.attr("Format").map(str::to_string),
        name_qualifier: name_id_element.attr("NameQualifier").map(str::to_string),
        sp_name_qualifier: name_id_element.attr("SPNameQualifier").map(str::to_string),
    };
    if name_id.value.is_empty() {
        return Err(ValidationError::NoNameId);
    }
    pass("name id", format!("{} ({})", name_id.value, name_id.format.as_deref().unwrap_or("unspecified")));

    let mut first_error: Option<ValidationError> = None;
    let mut confirmed: Option<(Timestamp, String)> = None;
    for confirmation in subject.children_named(ns::ASSERTION, "SubjectConfirmation") {
        if confirmation.attr("Method") != Some(ns::CONFIRMATION_BEARER) {
            continue;
        }
        match check_bearer(confirmation, policy, request_id, now) {
            Ok(found) => {
                confirmed = Some(found);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let (confirmed_until, recipient) = match (confirmed, first_error) {
        (Some(found), _) => found,
        (None, Some(e)) => return Err(e),
        (None, None) => return Err(ValidationError::NoBearerConfirmation),
    };
    pass("subject confirmation", format!("bearer, recipient {recipient}, until {confirmed_until}"));

    let conditions = assertion.child(ns::ASSERTION, "Conditions").ok_or(ValidationError::NoConditions)?;
    if let Some(nb) = conditions.attr("NotBefore") {
        let not_before = parse_time("Conditions NotBefore", nb)?;
        if now.plus_seconds(skew) < not_before {
            return Err(ValidationError::NotYetValid {
                not_before: not_before.to_xml(),
                now: now.to_xml(),
                skew_seconds: skew,
            });
        }
    }
    let not_on_or_after = match conditions.attr("NotOnOrAfter") {
        Some(v) => {
            let t = parse_time("Conditions NotOnOrAfter", v)?;
            if now.minus_seconds(skew) >= t {
                return Err(ValidationError::Expired {
                    not_on_or_after: t.to_xml(),
                    now: now.to_xml(),
                    skew_seconds: skew,
                });
            }
            t
        }
        None => confirmed_until,
    };
    pass("validity", format!("now {now} is within the assertion's validity (skew {skew}s)"));

    let mut restrictions = 0;
    for condition in conditions.child_elements() {
        if condition.is(ns::ASSERTION, "AudienceRestriction") {
            restrictions += 1;
            let audiences: Vec<String> = condition
                .children_named(ns::ASSERTION, "Audience")
                .map(|a| a.trimmed_text().map(str::to_string))
                .collect::<Result<_, _>>()?;
            if !audiences.iter().any(|a| policy.is_audience(a)) {
                return Err(ValidationError::Audience { expected: policy.sp_entity_id.to_string(), found: audiences });
            }
        } else if condition.is(ns::ASSERTION, "OneTimeUse") || condition.is(ns::ASSERTION, "ProxyRestriction") {
            // OneTimeUse is what the replay cache enforces anyway; ProxyRestriction limits
            // what a relying party re-issues, which this SP does not do with this assertion.
        } else {
            return Err(ValidationError::UnknownCondition(condition_name(condition)));
        }
    }
    if restrictions == 0 {
        return Err(ValidationError::NoAudienceRestriction);
    }
    pass("audience", policy.sp_entity_id.to_string());

    let authn = assertion.child(ns::ASSERTION, "AuthnStatement").ok_or(ValidationError::NoAuthnStatement)?;
    let session_not_on_or_after = authn.attr("SessionNotOnOrAfter");
    if let Some(end) = session_not_on_or_after {
        let end_time = parse_time("SessionNotOnOrAfter", end)?;
        if now.minus_seconds(skew) >= end_time {
            return Err(ValidationError::SessionExpired(end_time.to_xml()));
        }
    }
    pass("authn statement", format!("session index {}", authn.attr("SessionIndex").unwrap_or("(none)")));

    let mut attributes = Vec::new();
    for statement in assertion.children_named(ns::ASSERTION, "AttributeStatement") {
        for a in statement.children_named(ns::ASSERTION, "Attribute") {
            let values = a
                .children_named(ns::ASSERTION, "AttributeValue")
                .map(|v| v.text().map(str::to_string))
                .collect::<Result<Vec<_>, _>>()?;
            attributes.push(Attribute {
                name: a.attr("Name").ok_or(ValidationError::Missing { field: "Attribute Name" })?.to_string(),
                name_format: a.attr("NameFormat").map(str::to_string),
                friendly_name: a.attr("FriendlyName").map(str::to_string),
                values,
            });
        }
    }
    pass("attributes", format!("{} attribute(s)", attributes.len()));

    // Last, so a refused assertion does not burn its ID.
    let expires = not_on_or_after.max(confirmed_until).plus_seconds(skew);
    match replay.insert_if_new(assertion_id, expires, now) {
        Ok(true) => pass("replay", format!("assertion {assertion_id} not seen before")),
        Ok(false) => return Err(ValidationError::Replay { id: assertion_id.to_string() }),
        Err(e) => return Err(ValidationError::ReplayCache(e)),
    }

    let certificate_sha256 =
        policy.idp_certificates.get(covering.certificate_index()).map(Certificate::fingerprint_hex).unwrap_or_default();
    Ok(Accepted {
        response_id: response_id.map(str::to_string),
        assertion_id: assertion_id.to_string(),
        issuer: policy.idp_entity_id.to_string(),
        name_id,
        session_index: authn.attr("SessionIndex").map(str::to_string),
        authn_instant: authn.attr("AuthnInstant").map(str::to_string),
        session_not_on_or_after: session_not_on_or_after.map(str::to_string),
        not_on_or_after: not_on_or_after.to_xml(),
        attributes,
        in_response_to: response_in_response_to.map(str::to_string),
        recipient,
        response_signed: false,
        assertion_signed: false,
        certificate_sha256,
    })
}

fn check_bearer(
    confirmation: SignedView<'_>,
    policy: &SpPolicy<'_>,
    request_id: Option<&str>,
    now: Timestamp,
) -> Result<(Timestamp, String), ValidationError> {
    let skew = policy.clock_skew_seconds;
    let data = confirmation
        .child(ns::ASSERTION, "SubjectConfirmationData")
        .ok_or(ValidationError::Missing { field: "SubjectConfirmationData" })?;
    let recipient = data.attr("Recipient");
    if !recipient.is_some_and(|r| policy.is_acs_url(r)) {
        return Err(ValidationError::Recipient {
            expected: policy.acs_url.to_string(),
            found: recipient.map(str::to_string),
        });
    }
    let until = data.attr("NotOnOrAfter").ok_or(ValidationError::ConfirmationWithoutExpiry)?;
    let until = parse_time("SubjectConfirmationData NotOnOrAfter", until)?;
    if now.minus_seconds(skew) >= until {
        return Err(ValidationError::ConfirmationExpired {
            not_on_or_after: until.to_xml(),
            now: now.to_xml(),
            skew_seconds: skew,
        });
    }
    if let Some(nb) = data.attr("NotBefore") {
        let not_before = parse_time("SubjectConfirmationData NotBefore", nb)?;
        if now.plus_seconds(skew) < not_before {
            return Err(ValidationError::ConfirmationNotYetValid {
                not_before: not_before.to_xml(),
                now: now.to_xml(),
                skew_seconds: skew,
            });
        }
    }
    // The signed InResponseTo must match the request too, not only the Response's copy.
    let recipient = recipient.unwrap_or_default().to_string();
    if policy.ignore_in_response_to {
        return Ok((until, recipient));
    }
    // Whether an unsolicited Response is allowed was decided on the Response already.
    check_in_response_to(data.attr("InResponseTo"), request_id, true)?;
    Ok((until, recipient))
}
