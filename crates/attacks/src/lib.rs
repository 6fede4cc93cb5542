//! The attack corpus: every case is generated from a valid Response built and signed at a fixed
//! time, then transformed (as text, or as a tree) the way a published attack does. A dev crate
//! shared by crossfed-saml's own attack test, the CLI's, the hub's ACS test and the target
//! account's sign-in test. The cases are addressed to the hub's SP ([`SP`], [`ACS`]) unless the
//! fixture is made with [`Fixture::for_sp`] for another SP. Test support: a case that cannot be
//! built fails loudly, so this crate may panic.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_saml::MAX_MESSAGE_BYTES;
use crossfed_saml::{
    Attribute, BindingError, MessageKind, NameId, ResponseSpec, SchemaError, SignatureRequirement, SignedParts,
    SurroundingWhitespace, Timestamp, ValidationError, build_response, ns, redirect_query,
};
use crossfed_xml::{C14nOptions, Document, NodeId, XmlError, canonicalize, element_to_xml, to_xml};
use crossfed_xmldsig::{DSIG_NS, DsigError, SignOptions, SigningKey, sign_enveloped};

pub const IDP: &str = "https://corp.example.com/saml/idp";
pub const SP: &str = "https://hub.example.com/saml/sp";
pub const ACS: &str = "https://hub.example.com/saml/acs";
pub const REQUEST_ID: &str = "_req1";
pub const VICTIM: &str = "alice@example.com";
pub const ADMIN: &str = "admin@example.com";
/// The skew of `SpPolicy::new`.
pub const SKEW: i64 = 120;

/// The cases the hub's ACS (`POST /saml/acs`) answers otherwise than with the expected error,
/// and its answer. Every other case is refused with 403 and the expected error on the page.
/// `crates/hub/tests/hub/attack_corpus.rs` checks each answer and that this list is complete;
/// docs/attacks.md shows it.
pub const HUB_ACS_ANSWERS: &[(&str, &str)] = &[
    (
        "signature-exclusion-with-assertion-signature-required",
        "403 `Unsigned { required: AssertionCovered }`: the hub requires the assertion to be covered by a signature (the Response's or its own), not signed itself",
    ),
    (
        "response-signature-stripped-when-required",
        "accepted: the hub does not require a Response signature, and this is the untouched response with its signed assertion",
    ),
    ("deflate-bomb-redirect-binding", "405 to `GET /saml/acs`: the ACS takes HTTP-POST only, so nothing is inflated"),
    ("oversized-input", "413 before the form is read: over the hub's 256 KiB request body limit"),
    ("too-many-nodes", "413 before the form is read: over the hub's 256 KiB request body limit"),
    ("xsw3-over-redirect-binding", "405 to `GET /saml/acs` (HTTP-POST only); the same XML posted: the expected error"),
    (
        "replay",
        "403 `Assertion … was already used (replay).` from the replay cache in the store, when the hub waits for `_req1` again; without that, 403 *Sign-in expired* (the first presentation used up the pending login)",
    ),
    (
        "wrong-in-response-to",
        "403 *Sign-in expired* before validation: the hub waits for `_another_request`, and no pending login has the response's InResponseTo",
    ),
    (
        "response-to-no-pending-request",
        "403 *Sign-in expired* before validation: no pending login has the response's InResponseTo",
    ),
];

/// The same for the target account's AWS sign-in endpoint (`POST /saml`), the cases built with
/// [`Fixture::for_sp`] for its sign-in URL and carrying a Role attribute. Every other case is
/// refused with the expected error and the code AWS gives it (`InvalidIdentityToken`,
/// `ExpiredTokenException`, `IDPRejectedClaim`). Checked by `crates/cloud/tests/cloud/attack_corpus.rs`.
pub const SIGN_IN_ANSWERS: &[(&str, &str)] = &[
    (
        "signature-exclusion-with-assertion-signature-required",
        "`Unsigned { required: AssertionCovered }` (InvalidIdentityToken): sign-in requires the assertion to be covered by a signature, not signed itself",
    ),
    (
        "response-signature-stripped-when-required",
        "accepted: no Response signature is required, and this is the untouched response with its signed assertion",
    ),
    (
        "saml-prefix-redefined-on-assertion",
        "InvalidIdentityToken before validation: no saml:Assertion carries a Role attribute naming a SAML provider, so there is none to validate with",
    ),
    ("deflate-bomb-redirect-binding", "405 to `GET /saml`: sign-in takes HTTP-POST only, so nothing is inflated"),
    ("oversized-input", "413 before the form is read: over the account's 1 MiB request body limit"),
    (
        "too-many-nodes",
        "InvalidIdentityToken before validation: the SAMLResponse value is over the POST binding's 256 KiB bound",
    ),
    (
        "encrypted-assertion-instead-of-assertion",
        "InvalidIdentityToken before validation: no saml:Assertion carries a Role attribute naming a SAML provider, so there is none to validate with",
    ),
    ("xsw3-over-redirect-binding", "405 to `GET /saml` (HTTP-POST only); the same XML posted: the expected error"),
    (
        "signed-failure-response-is-a-failure",
        "InvalidIdentityToken before validation: the failure Response has no assertion, hence no Role attribute naming a SAML provider",
    ),
    (
        "assertion-in-saml1-namespace",
        "InvalidIdentityToken before validation: no saml:Assertion carries a Role attribute naming a SAML provider, so there is none to validate with",
    ),
    (
        "replay",
        "InvalidIdentityToken `The SAML assertion … was already used` from the replay cache in the account's store",
    ),
    ("wrong-in-response-to", "accepted: AWS sign-in sends no AuthnRequests, so it does not check InResponseTo"),
    (
        "response-to-no-pending-request",
        "accepted: AWS sign-in sends no AuthnRequests, so it does not check InResponseTo",
    ),
    ("unsolicited-when-disallowed", "accepted: IdP-initiated responses are how AWS sign-in is always used"),
    (
        "unsigned-in-response-to-edited",
        "accepted: AWS sign-in sends no AuthnRequests, so it does not check InResponseTo",
    ),
];

const XSLT_NS: &str = "http://www.w3.org/TR/1999/REC-xslt-19991116";
const XPATH_NS: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";
const C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const HMAC_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
/// The SAML 2.0 delegation condition's namespace (its `saml:Condition` carries an `xsi:type`).
const DELEGATION_NS: &str = "urn:oasis:names:tc:SAML:2.0:conditions:delegation";
const EXT_NS: &str = "urn:example:ext";

/// The keys and the instant every case is built at, and the SP the cases are addressed to.
pub struct Fixture {
    pub idp_key: SigningKey,
    pub attacker_key: SigningKey,
    /// The SP entity ID: the audience of the valid response, and the one errors expect.
    pub sp: String,
    /// The ACS URL: Destination and Recipient of the valid response, and the one errors expect.
    pub acs: String,
    /// Attributes every generated assertion carries after `email` and `groups` (an SP such as
    /// AWS sign-in reads its Role attribute before validating).
    pub extra_attributes: Vec<Attribute>,
}

impl Fixture {
    /// The cases addressed to the hub's SP side ([`SP`], [`ACS`]).
    pub fn new() -> Self {
        Self::for_sp(SP, ACS, Vec::new())
    }

    /// The same cases addressed to another SP: `sp` as audience, `acs` as Destination and
    /// Recipient, with `extra_attributes` in every assertion.
    pub fn for_sp(sp: &str, acs: &str, extra_attributes: Vec<Attribute>) -> Self {
        Fixture {
            idp_key: SigningKey::generate_rsa("corp idp", crossfed_clock::Clock::system().now(), 30).expect("idp key"),
            attacker_key: SigningKey::generate_rsa("attacker", crossfed_clock::Clock::system().now(), 30)
                .expect("attacker key"),
            sp: sp.to_string(),
            acs: acs.to_string(),
            extra_attributes,
        }
    }

    /// The instant responses are built at.
    pub fn t0() -> Timestamp {
        Timestamp::parse("2026-11-25T10:00:00Z").expect("fixed instant")
    }

    /// The instant responses are validated at, unless a case says otherwise.
    pub fn now() -> Timestamp {
        Self::t0().plus_seconds(5)
    }

    pub fn spec(&self) -> ResponseSpec {
        ResponseSpec {
            issuer: IDP.to_string(),
            destination: self.acs.clone(),
            audiences: vec![self.sp.clone()],
            in_response_to: Some(REQUEST_ID.to_string()),
            name_id: NameId { value: VICTIM.into(), format: Some(ns::NAMEID_EMAIL.into()), ..NameId::default() },
            session_index: "_s1".into(),
            authn_instant: Self::t0(),
            authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
            attributes: self.with_extra_attributes(vec![
                Attribute::uri("email", vec![VICTIM.into()]),
                Attribute::uri("groups", vec!["agents".into(), "supervisors".into()]),
            ]),
            lifetime_seconds: 300,
            not_before_skew_seconds: 0,
            session_not_on_or_after: None,
            signed_parts: SignedParts::Assertion,
        }
    }

    /// `attributes` followed by the fixture's extra attributes.
    pub fn with_extra_attributes(&self, mut attributes: Vec<Attribute>) -> Vec<Attribute> {
        attributes.extend(self.extra_attributes.iter().cloned());
        attributes
    }

    /// A valid response signed by the IdP, built at `t0`.
    pub fn build(&self, spec: &ResponseSpec) -> String {
        self.build_at(spec, Self::t0())
    }

    /// The IdP writes its Responses in canonical form (empty elements as start and end tags);
    /// the corpus's edits are written against a tree's serialization of them (empty elements
    /// closed with `/>`), which parses to the same tree, so the signatures hold either way.
    pub fn build_at(&self, spec: &ResponseSpec, at: Timestamp) -> String {
        to_xml(&parse(&build_response(spec, at, &self.idp_key).expect("build response").xml))
    }

    /// The untouched valid response (assertion signed) that every XML attack starts from.
    pub fn valid(&self) -> String {
        self.build(&self.spec())
    }

    pub fn signed(&self, parts: SignedParts) -> String {
        self.build(&ResponseSpec { signed_parts: parts, ..self.spec() })
    }

    /// Re-signs the assertion with `key` after `edit` changed the unsigned tree: what an IdP
    /// (or an attacker holding `key`) would sign.
    pub fn resign_assertion(&self, xml: &str, key: &SigningKey, edit: impl FnOnce(&mut Document)) -> String {
        let mut doc = parse(xml);
        let assertion = first(&doc, ns::ASSERTION, "Assertion");
        if let Some(sig) = child(&doc, assertion, DSIG_NS, "Signature") {
            doc.detach(sig);
        }
        edit(&mut doc);
        sign_enveloped(&mut doc, assertion, key, &SignOptions::default()).expect("sign");
        to_xml(&doc)
    }
}

impl Fixture {
    /// Re-signs the Response with `key` after `edit`: what an IdP would sign.
    pub fn resign_response(&self, xml: &str, key: &SigningKey, edit: impl FnOnce(&mut Document)) -> String {
        let mut doc = parse(xml);
        let root = doc.root();
        if let Some(sig) = child(&doc, root, DSIG_NS, "Signature") {
            doc.detach(sig);
        }
        edit(&mut doc);
        sign_enveloped(&mut doc, root, key, &SignOptions::default()).expect("sign");
        to_xml(&doc)
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

/// How the message reaches the SP.
#[derive(Debug, Clone)]
pub enum Input {
    /// The decoded XML of an HTTP-POST `SAMLResponse`.
    Post(Vec<u8>),
    /// The query string of an HTTP-Redirect message.
    Redirect(String),
}

/// The state of the SP when the message arrives.
#[derive(Debug, Clone)]
pub struct Context {
    /// The pending AuthnRequest ID, None for IdP-initiated login.
    pub request_id: Option<String>,
    pub signatures: SignatureRequirement,
    pub now: Timestamp,
    /// Present the same input once before (it must be accepted then), to test replay.
    pub replay_first: bool,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            request_id: Some(REQUEST_ID.to_string()),
            signatures: SignatureRequirement::default(),
            now: Fixture::now(),
            replay_first: false,
        }
    }
}

/// A predicate on the error, for errors carrying free-text detail.
pub type Matcher = std::sync::Arc<dyn Fn(&ValidationError) -> bool + Send + Sync>;

/// What the SP must answer.
#[derive(Clone)]
pub enum Expected {
    /// Exactly this validation error.
    Exact(ValidationError),
    /// A validation error matching the predicate, described for the table.
    Like(String, Matcher),
    /// Exactly this binding error (refused before validation).
    Binding(BindingError),
}

impl Expected {
    pub fn like(description: &str, matcher: impl Fn(&ValidationError) -> bool + Send + Sync + 'static) -> Self {
        Expected::Like(description.to_string(), std::sync::Arc::new(matcher))
    }

    pub fn describe(&self) -> String {
        match self {
            Expected::Exact(e) => format!("`{e:?}`"),
            Expected::Like(d, _) => format!("`{d}`"),
            Expected::Binding(e) => format!("`BindingError::{e:?}`"),
        }
    }

    pub fn matches_validation(&self, actual: &ValidationError) -> bool {
        match self {
            Expected::Exact(e) => e == actual,
            Expected::Like(_, f) => f(actual),
            Expected::Binding(_) => false,
        }
    }
}

pub struct Case {
    pub name: &'static str,
    /// The writeup, CVE or specification rule the case comes from.
    pub source: &'static str,
    pub input: Input,
    pub context: Context,
    pub expected: Expected,
}

// ---------------------------------------------------------------------------------------------
// Tree and text helpers.

pub fn parse(xml: &str) -> Document {
    crossfed_xml::parse(xml.as_bytes()).expect("the generated XML parses")
}

pub fn first(doc: &Document, ns: &str, local: &str) -> NodeId {
    doc.descendants().find(|e| e.is(ns, local)).map(|e| e.id()).unwrap_or_else(|| panic!("no {local}"))
}

fn child(doc: &Document, parent: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    doc.element(parent).and_then(|e| e.child(ns, local)).map(|e| e.id())
}

/// The serialized text of the first element named (ns, local); a substring of `xml`, since
/// the writer puts namespace declarations only where the tree has them.
#[track_caller]
pub fn fragment(xml: &str, ns: &str, local: &str) -> String {
    let doc = parse(xml);
    let text = element_to_xml(&doc, first(&doc, ns, local));
    assert!(xml.contains(&text), "fragment of {local} not found verbatim");
    text
}

/// Replaces the single occurrence of `from`.
#[track_caller]
pub fn replace_once(xml: &str, from: &str, to: &str) -> String {
    let count = xml.matches(from).count();
    assert_eq!(count, 1, "expected exactly one {:?}", from.chars().take(80).collect::<String>());
    xml.replacen(from, to, 1)
}

fn attr_value(xml: &str, ns: &str, local: &str, attr: &str) -> String {
    let doc = parse(xml);
    let id = first(&doc, ns, local);
    doc.element(id).and_then(|e| e.attr(attr)).expect("attribute").to_string()
}

fn assertion_id(xml: &str) -> String {
    attr_value(xml, ns::ASSERTION, "Assertion", "ID")
}

fn response_id(xml: &str) -> String {
    attr_value(xml, ns::PROTOCOL, "Response", "ID")
}

/// The signed assertion, and the same assertion unsigned with the NameID changed to ADMIN.
fn assertion_and_evil_copy(xml: &str) -> (String, String) {
    let assertion = fragment(xml, ns::ASSERTION, "Assertion");
    // The first signature in document order: the assertion's, in an assertion-signed response.
    let signature = fragment(xml, DSIG_NS, "Signature");
    let evil = replace_once(&assertion, &signature, "");
    let evil = replace_once(&evil, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"));
    (assertion, evil)
}

fn with_id(fragment: &str, old: &str, new: &str) -> String {
    replace_once(fragment, &format!("ID=\"{old}\""), &format!("ID=\"{new}\""))
}

/// `xml` with the start tag of the element whose ID is `id` passed through `edit`, whatever the
/// order of its attributes and declarations.
fn edit_start_tag(xml: &str, id: &str, edit: impl FnOnce(&str) -> String) -> String {
    let marker = format!(" ID=\"{id}\"");
    assert_eq!(xml.matches(&marker).count(), 1, "expected exactly one element with ID {id}");
    let at = xml.find(&marker).expect("the ID");
    let start = xml[..at].rfind('<').expect("the start tag");
    let end = at + xml[at..].find('>').expect("the end of the start tag") + 1;
    format!("{}{}{}", &xml[..start], edit(&xml[start..end]), &xml[end..])
}

/// A start tag with `prefix` bound to `uri` on it, in place of any binding it had.
fn rebind(tag: &str, prefix: &str, uri: &str) -> String {
    let name_end = tag.find(' ').unwrap_or(tag.len() - 1);
    let mut rest = tag[name_end..].to_string();
    let declaration = format!(" xmlns:{prefix}=\"");
    if let Some(from) = rest.find(&declaration) {
        let to = from + declaration.len() + rest[from + declaration.len()..].find('"').expect("the end of the URI") + 1;
        rest.replace_range(from..to, "");
    }
    format!("{}{declaration}{uri}\"{rest}", &tag[..name_end])
}

/// Inserts `text` right after the Response's own Issuer (its first child, so the first Issuer
/// to end).
fn after_response_issuer(xml: &str, text: &str) -> String {
    let issuer_end = format!(">{IDP}</saml:Issuer>");
    let at = xml.find("</saml:Issuer>").expect("response issuer") + "</saml:Issuer>".len();
    assert!(xml[..at].ends_with(&issuer_end), "the first Issuer is not the IdP's");
    format!("{}{}{}", &xml[..at], text, &xml[at..])
}

fn set_algorithm(xml: &str, element: &str, new: &str) -> String {
    let doc = parse(xml);
    let id = first(&doc, DSIG_NS, element);
    let old = doc.element(id).and_then(|e| e.attr("Algorithm")).expect("Algorithm").to_string();
    let frag = element_to_xml(&doc, id);
    let changed = replace_once(&frag, &format!("Algorithm=\"{old}\""), &format!("Algorithm=\"{new}\""));
    replace_once(xml, &frag, &changed)
}

/// `url` with an empty comment before its path (`https://host<!---->/path`), where a parser
/// that drops comments from text would read the host alone.
fn comment_before_path(url: &str) -> String {
    let host_start = url.find("://").map_or(0, |i| i + 3);
    match url.get(host_start..).and_then(|rest| rest.find('/')) {
        Some(i) => {
            let (host, path) = url.split_at(host_start + i);
            format!("{host}<!---->{path}")
        }
        None => format!("{url}<!---->"),
    }
}

fn drop_declaration(xml: &str) -> &str {
    xml.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>").unwrap_or(xml)
}

fn post(xml: String) -> Input {
    Input::Post(xml.into_bytes())
}

fn weak(uri: &'static str) -> Expected {
    Expected::like(&format!("AssertionSignature(WeakAlgorithm {{ uri: {uri:?}, .. }})"), move |e| match e {
        ValidationError::AssertionSignature(DsigError::WeakAlgorithm { uri: found, .. }) => found == uri,
        _ => false,
    })
}

// ---------------------------------------------------------------------------------------------
// The corpus.

pub fn corpus(fx: &Fixture) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: &'static str, source: &'static str, input: Input, context: Context, expected: Expected| {
        cases.push(Case { name, source, input, context, expected })
    };
    let ctx = Context::default;
    let exact = Expected::Exact;
    let (sp, acs) = (fx.sp.as_str(), fx.acs.as_str());

    let valid = fx.valid();
    let aid = assertion_id(&valid);
    let (signed_assertion, evil_assertion) = assertion_and_evil_copy(&valid);
    let evil_other_id = with_id(&evil_assertion, &aid, "_evil");
    let signature = fragment(&valid, DSIG_NS, "Signature");

    // --- XML Signature Wrapping, the eight variants of "On Breaking SAML". ---------------------
    let response_signed = fx.signed(SignedParts::Response);
    let rid = response_id(&response_signed);
    let response_sig = {
        let doc = parse(&response_signed);
        let root = doc.root();
        element_to_xml(&doc, child(&doc, root, DSIG_NS, "Signature").expect("response signature"))
    };
    let original_unsigned = replace_once(drop_declaration(&response_signed), &response_sig, "");
    let evil_response_body = {
        let r = with_id(&original_unsigned, &rid, "_evilresponse");
        let a = assertion_id(&response_signed);
        let r = with_id(&r, &a, "_evil");
        replace_once(&r, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"))
    };
    {
        // XSW1: a new Response (new ID, evil assertion) carries the original signature, and the
        // original Response sits inside that signature as a ds:Object.
        let sig_with_object = replace_once(
            &response_sig,
            "</ds:Signature>",
            &format!("<ds:Object>{original_unsigned}</ds:Object></ds:Signature>"),
        );
        add(
            "xsw1-evil-response-original-in-signature-object",
            "XSW #1, Somorovsky et al. 2012 'On Breaking SAML'",
            post(after_response_issuer(&evil_response_body, &sig_with_object)),
            ctx(),
            exact(ValidationError::ResponseSignature(DsigError::Malformed(
                "unexpected <ds:Object> in ds:Signature".into(),
            ))),
        );
        // XSW2: the same, the original Response as a sibling before the signature (detached).
        add(
            "xsw2-evil-response-original-as-detached-sibling",
            "XSW #2, Somorovsky et al. 2012 'On Breaking SAML'",
            post(after_response_issuer(&evil_response_body, &format!("{original_unsigned}{response_sig}"))),
            ctx(),
            Expected::Exact(ValidationError::ResponseSignature(DsigError::ReferenceMismatch {
                expected: "_evilresponse".into(),
                found: format!("#{rid}"),
            })),
        );
    }
    // XSW3: an evil assertion (new ID) before the signed one.
    add(
        "xsw3-evil-assertion-before-signed-assertion",
        "XSW #3, Somorovsky et al. 2012 'On Breaking SAML'",
        post(replace_once(&valid, &signed_assertion, &format!("{evil_other_id}{signed_assertion}"))),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    // XSW4: the signed assertion wrapped inside the evil one.
    add(
        "xsw4-signed-assertion-nested-in-evil-assertion",
        "XSW #4, Somorovsky et al. 2012 'On Breaking SAML'",
        post(replace_once(
            &valid,
            &signed_assertion,
            &replace_once(&evil_other_id, "</saml:Assertion>", &format!("{signed_assertion}</saml:Assertion>")),
        )),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    // XSW5: the evil assertion keeps the signature; an unsigned copy of the original is appended.
    {
        let evil_with_sig =
            replace_once(&signed_assertion, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"));
        let original_copy = replace_once(&signed_assertion, &signature, "");
        add(
            "xsw5-evil-assertion-keeps-signature-original-copy-appended",
            "XSW #5, Somorovsky et al. 2012 'On Breaking SAML'",
            post(replace_once(&valid, &signed_assertion, &format!("{evil_with_sig}{original_copy}"))),
            ctx(),
            exact(ValidationError::AssertionCount { found: 2 }),
        );
        // XSW6: the original copy inside the signature (ds:Object) of the evil assertion.
        let evil_with_object = replace_once(
            &evil_with_sig,
            "</ds:Signature>",
            &format!("<ds:Object>{original_copy}</ds:Object></ds:Signature>"),
        );
        add(
            "xsw6-original-in-object-of-evil-assertion-signature",
            "XSW #6, Somorovsky et al. 2012 'On Breaking SAML'",
            post(replace_once(&valid, &signed_assertion, &evil_with_object)),
            ctx(),
            exact(ValidationError::AssertionCount { found: 2 }),
        );
        // XSW7: the signed assertion hidden in samlp:Extensions, the evil one where the SP looks.
        add(
            "xsw7-signed-assertion-in-extensions",
            "XSW #7, Somorovsky et al. 2012 'On Breaking SAML'",
            post(after_response_issuer(
                &replace_once(&valid, &signed_assertion, &evil_other_id),
                &format!("<samlp:Extensions>{signed_assertion}</samlp:Extensions>"),
            )),
            ctx(),
            exact(ValidationError::AssertionCount { found: 2 }),
        );
        // XSW8: the evil assertion keeps the signature, the original without signature in an
        // Object of it (the variant of XSW6 that strips the copy's signature).
        let sig_in_evil = signature.clone();
        let evil_sig_object = replace_once(
            &sig_in_evil,
            "</ds:Signature>",
            &format!("<ds:Object>{original_copy}</ds:Object></ds:Signature>"),
        );
        let evil_unsigned_id = with_id(&replace_once(&evil_with_sig, &sig_in_evil, ""), &aid, "_evil");
        let evil8 = replace_once(&evil_unsigned_id, "</saml:Issuer>", &format!("</saml:Issuer>{evil_sig_object}"));
        add(
            "xsw8-evil-assertion-with-original-in-signature-object",
            "XSW #8, Somorovsky et al. 2012 'On Breaking SAML'",
            post(replace_once(&valid, &signed_assertion, &evil8)),
            ctx(),
            exact(ValidationError::AssertionCount { found: 2 }),
        );
    }
    // --- Signature exclusion and mixing signed with unsigned parts. ---------------------------
    add(
        "signature-exclusion",
        "Signature exclusion, Somorovsky et al. 2012 'On Breaking SAML' §5",
        post(replace_once(&valid, &signature, "")),
        ctx(),
        exact(ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }),
    );
    add(
        "signature-exclusion-with-assertion-signature-required",
        "Signature exclusion, Somorovsky et al. 2012 'On Breaking SAML' §5",
        post(replace_once(
            &replace_once(&valid, &signature, ""),
            &format!(">{VICTIM}</saml:NameID>"),
            &format!(">{ADMIN}</saml:NameID>"),
        )),
        Context { signatures: SignatureRequirement::AssertionSigned, ..ctx() },
        exact(ValidationError::AssertionNotSigned { required: SignatureRequirement::AssertionSigned }),
    );
    add(
        "response-signature-stripped-when-required",
        "Signature exclusion on the Response, Somorovsky et al. 2012 'On Breaking SAML' §5",
        post(valid.clone()),
        Context { signatures: SignatureRequirement::ResponseSigned, ..ctx() },
        exact(ValidationError::ResponseNotSigned { required: SignatureRequirement::ResponseSigned }),
    );
    {
        let resp_assertion = fragment(&response_signed, ns::ASSERTION, "Assertion");
        let injected = with_id(
            &replace_once(&resp_assertion, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>")),
            &assertion_id(&response_signed),
            "_injected",
        );
        add(
            "signed-response-with-injected-unsigned-assertion",
            "CVE-2022-41912 crewjam/saml (multiple assertions, only one covered)",
            post(replace_once(&response_signed, &resp_assertion, &format!("{injected}{resp_assertion}"))),
            ctx(),
            exact(ValidationError::ResponseSignature(DsigError::DigestMismatch)),
        );
        add(
            "response-signature-removed-and-assertion-tampered",
            "Signature exclusion, Somorovsky et al. 2012 'On Breaking SAML' §5",
            post(replace_once(
                &replace_once(&response_signed, &response_sig, ""),
                &format!(">{VICTIM}</saml:NameID>"),
                &format!(">{ADMIN}</saml:NameID>"),
            )),
            ctx(),
            exact(ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }),
        );
    }
    add(
        "signed-assertion-plus-unsigned-second-assertion",
        "CVE-2022-41912 crewjam/saml (multiple assertions, only one covered)",
        post(replace_once(&valid, &signed_assertion, &format!("{signed_assertion}{evil_other_id}"))),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    add(
        "evil-response-wrapping-original-response",
        "samlify CVE-2025-47949 (signature wrapping)",
        post(replace_once(&valid, &signed_assertion, &format!("{evil_other_id}{}", drop_declaration(&valid)))),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    {
        // Both signed, the assertion then tampered: the response signature catches it first.
        let both = fx.signed(SignedParts::Both);
        add(
            "both-signed-assertion-tampered",
            "CVE-2017-11427 family: tampering under a covering signature",
            post(replace_once(&both, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"))),
            ctx(),
            exact(ValidationError::ResponseSignature(DsigError::DigestMismatch)),
        );
    }
    // --- Duplicate IDs and references to another element. ---------------------------------
    add(
        "duplicate-id-in-extensions",
        "XSW via ID ambiguity (getElementById), Somorovsky et al. 2012 'On Breaking SAML'",
        post(after_response_issuer(
            &valid,
            &format!("<samlp:Extensions><x:Decoy xmlns:x=\"urn:example:x\" ID=\"{aid}\"/></samlp:Extensions>"),
        )),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::DuplicateId { id: aid.clone() })),
    );
    add(
        "duplicate-id-as-xml-id",
        "XSW via ID ambiguity (xml:id / Id spelling), Somorovsky et al. 2012 'On Breaking SAML'",
        post(after_response_issuer(
            &valid,
            &format!("<samlp:Extensions><x:Decoy xmlns:x=\"urn:example:x\" xml:id=\"{aid}\"/></samlp:Extensions>"),
        )),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::DuplicateId { id: aid.clone() })),
    );
    {
        let rid = response_id(&valid);
        add(
            "signature-references-the-response-not-its-assertion",
            "Reference to another element, Somorovsky et al. 2012 'On Breaking SAML'",
            post(replace_once(&valid, &format!("URI=\"#{aid}\""), &format!("URI=\"#{rid}\""))),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::ReferenceMismatch {
                expected: aid.clone(),
                found: format!("#{rid}"),
            })),
        );
        add(
            "signature-references-the-whole-document",
            "Empty Reference URI (whole document), XML-DSig 1.1 §4.4.3.3",
            post(replace_once(&valid, &format!("URI=\"#{aid}\""), "URI=\"\"")),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::ReferenceMismatch {
                expected: aid.clone(),
                found: String::new(),
            })),
        );
        // A genuine signed Response for another login, its signature moved onto ours.
        add(
            "response-signature-moved-to-another-response",
            "Reference to another element, Somorovsky et al. 2012 'On Breaking SAML'",
            post(after_response_issuer(&valid, &response_sig)),
            ctx(),
            exact(ValidationError::ResponseSignature(DsigError::ReferenceMismatch {
                expected: response_id(&valid),
                found: format!("#{}", response_id(&response_signed)),
            })),
        );
    }
    // --- Comments, processing instructions, DTDs. -------------------------------------------
    {
        // The attacker registers admin@example.com.evil.com and gets it signed by the IdP.
        let attacker_account = "admin@example.com.evil.com";
        let spec = ResponseSpec {
            name_id: NameId {
                value: attacker_account.into(),
                format: Some(ns::NAMEID_EMAIL.into()),
                ..NameId::default()
            },
            attributes: fx.with_extra_attributes(vec![Attribute::uri("email", vec![attacker_account.into()])]),
            ..fx.spec()
        };
        let theirs = fx.build(&spec);
        add(
            "comment-truncation-in-name-id",
            "CVE-2017-11427 OneLogin python-saml (comment truncation, Duo Labs 2018)",
            post(replace_once(
                &theirs,
                "admin@example.com.evil.com</saml:NameID>",
                "admin@example.com<!---->.evil.com</saml:NameID>",
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::CommentInValue { element: "saml:NameID".into() })),
        );
        add(
            "comment-truncation-in-attribute-value",
            "CVE-2017-11428 OneLogin ruby-saml (comment truncation, Duo Labs 2018)",
            post(replace_once(
                &theirs,
                "admin@example.com.evil.com</saml:AttributeValue>",
                "admin@example.com<!---->.evil.com</saml:AttributeValue>",
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::CommentInValue { element: "saml:AttributeValue".into() })),
        );
    }
    add(
        "comment-in-assertion-issuer",
        "CVE-2017-11429 Clever saml2-js (comment truncation, Duo Labs 2018)",
        post(replace_once(
            &valid,
            &format!(">{IDP}</saml:Issuer><ds:Signature"),
            ">https://corp.example.com<!---->/saml/idp</saml:Issuer><ds:Signature",
        )),
        ctx(),
        exact(ValidationError::Xml(XmlError::CommentInValue { element: "saml:Issuer".into() })),
    );
    add(
        "comment-in-audience",
        "CVE-2017-11430 OmniAuth-SAML (comment truncation, Duo Labs 2018)",
        post(replace_once(
            &valid,
            &format!("<saml:Audience>{sp}</saml:Audience>"),
            &format!("<saml:Audience>{}</saml:Audience>", comment_before_path(sp)),
        )),
        ctx(),
        exact(ValidationError::Xml(XmlError::CommentInValue { element: "saml:Audience".into() })),
    );
    add(
        "comment-in-digest-value",
        "xml-crypto CVE-2025-29775 (comment in DigestValue)",
        post(replace_once(&valid, "<ds:DigestValue>", "<ds:DigestValue><!--AAAA-->")),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::Xml(XmlError::CommentInValue {
            element: "ds:DigestValue".into(),
        }))),
    );
    add(
        "processing-instruction-in-name-id",
        "Processing instruction injection, the comment-truncation class of Duo Labs 2018",
        post(replace_once(&valid, &format!(">{VICTIM}</saml:NameID>"), ">alice<?evil x?>@example.com</saml:NameID>")),
        ctx(),
        exact(ValidationError::Xml(XmlError::ProcessingInstruction { target: "evil".into() })),
    );
    {
        let body = drop_declaration(&valid);
        add(
            "doctype",
            "DOCTYPE in a SAML message, OWASP XXE Prevention Cheat Sheet (disallow DOCTYPE)",
            post(format!("<!DOCTYPE samlp:Response>{body}")),
            ctx(),
            exact(ValidationError::Xml(XmlError::Doctype)),
        );
        add(
            "external-entity",
            "XML External Entity (CWE-611), OWASP XXE Prevention Cheat Sheet",
            post(format!(
                "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
                replace_once(body, &format!(">{VICTIM}</saml:NameID>"), ">&xxe;</saml:NameID>")
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::Doctype)),
        );
        let mut laughs = String::from("<!DOCTYPE r [<!ENTITY lol \"lol\">");
        for i in 1..10 {
            let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
            laughs.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
        }
        laughs.push_str("]>");
        add(
            "billion-laughs",
            "Entity expansion (billion laughs), CVE-2003-1564",
            post(format!(
                "{laughs}{}",
                replace_once(body, &format!(">{VICTIM}</saml:NameID>"), ">&lol9;</saml:NameID>")
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::Doctype)),
        );
        add(
            "attlist-parser-differential",
            "CVE-2025-25291/25292 ruby-saml parser differential (REXML vs Nokogiri DOCTYPE handling)",
            post(format!("<!DOCTYPE x [<!ATTLIST saml:Assertion ID ID #IMPLIED>]>{body}")),
            ctx(),
            exact(ValidationError::Xml(XmlError::Doctype)),
        );
        add(
            "undeclared-entity-reference",
            "Entity reference without DTD (XXE probe), OWASP XML External Entity",
            post(replace_once(&valid, &format!(">{VICTIM}</saml:NameID>"), ">&xxe;</saml:NameID>")),
            ctx(),
            exact(ValidationError::Xml(XmlError::UnknownEntity { name: "xxe".into() })),
        );
        add(
            "second-root-after-response",
            "Parser differential on trailing content, CVE-2025-25291/25292 ruby-saml class",
            post(format!(
                "{valid}{}",
                replace_once(body, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"))
            )),
            ctx(),
            Expected::like("Xml(ContentAfterRoot(_))", |e| {
                matches!(e, ValidationError::Xml(XmlError::ContentAfterRoot(_)))
            }),
        );
    }
    {
        let limit = crossfed_xml::Limits::default().max_bytes;
        let padded = replace_once(&valid, "<samlp:Status>", &format!("<!--{}--><samlp:Status>", " ".repeat(limit)));
        let actual = padded.len();
        add(
            "oversized-input",
            "Resource exhaustion by size, OWASP XML Security Cheat Sheet",
            post(padded),
            ctx(),
            // Exact, but described without the length, which varies by a byte with the certificate.
            Expected::like(&format!("Xml(TooLarge {{ limit: {limit}, actual: <input length> }})"), move |e| {
                *e == ValidationError::Xml(XmlError::TooLarge { limit, actual })
            }),
        );
        let depth = 200;
        let nested = format!("{}{}", "<x:d xmlns:x=\"urn:example:x\">".repeat(depth), "</x:d>".repeat(depth));
        add(
            "deeply-nested-elements",
            "Resource exhaustion by depth, OWASP XML Security Cheat Sheet",
            post(after_response_issuer(&valid, &format!("<samlp:Extensions>{nested}</samlp:Extensions>"))),
            ctx(),
            exact(ValidationError::Xml(XmlError::TooDeep { limit: crossfed_xml::Limits::default().max_depth })),
        );
    }
    {
        // A raw-DEFLATE stream of 8 MiB of spaces: a few KiB on the wire.
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1 << 20];
        for _ in 0..8 {
            std::io::Write::write_all(&mut encoder, &block).expect("deflate");
        }
        let compressed = encoder.finish().expect("deflate");
        let encoded = STANDARD.encode(compressed).replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
        add(
            "deflate-bomb-redirect-binding",
            "Decompression bomb on HTTP-Redirect (SAML bindings §3.4.4.1 DEFLATE), CWE-409",
            Input::Redirect(format!("SAMLResponse={encoded}")),
            ctx(),
            Expected::Binding(BindingError::TooLarge { limit: MAX_MESSAGE_BYTES }),
        );
    }
    // --- Keys and algorithms. ------------------------------------------------------------
    add(
        "attacker-certificate-in-key-info",
        "Untrusted KeyInfo certificate, CVE-2021-21239 pysaml2 / Somorovsky et al. 2012",
        post(fx.resign_assertion(&valid, &fx.attacker_key, |_| {})),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::UntrustedCertificate)),
    );
    {
        // Signed by the attacker, KeyInfo naming the IdP's certificate.
        let forged = fx.resign_assertion(&valid, &fx.attacker_key, |_| {});
        let forged =
            replace_once(&forged, &fx.attacker_key.certificate().to_base64(), &fx.idp_key.certificate().to_base64());
        add(
            "trusted-certificate-in-key-info-attacker-signature",
            "Key confusion: KeyInfo points at the trusted certificate, the value is the attacker's",
            post(forged),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::BadSignature)),
        );
    }
    add(
        "rsa-sha1-signature-method",
        "SHA-1 collisions (SHAttered, Stevens et al. 2017)",
        post(set_algorithm(&valid, "SignatureMethod", crossfed_xmldsig::RSA_SHA1)),
        ctx(),
        weak(crossfed_xmldsig::RSA_SHA1),
    );
    add(
        "sha1-digest-method",
        "SHA-1 collisions (SHAttered, Stevens et al. 2017)",
        post(set_algorithm(&valid, "DigestMethod", crossfed_xmldsig::SHA1)),
        ctx(),
        weak(crossfed_xmldsig::SHA1),
    );
    add(
        "hmac-sha1-signature-method",
        "HMAC with a public value as key; CVE-2009-0217 (HMACOutputLength truncation)",
        post(set_algorithm(&valid, "SignatureMethod", HMAC_SHA1)),
        ctx(),
        weak(HMAC_SHA1),
    );
    add(
        "empty-signature-method",
        "Algorithm confusion: empty SignatureMethod (the XML analogue of JWT alg none)",
        post(set_algorithm(&valid, "SignatureMethod", "")),
        ctx(),
        weak(""),
    );
    add(
        "unknown-signature-method",
        "Algorithm confusion: unknown SignatureMethod URI",
        post(set_algorithm(&valid, "SignatureMethod", "urn:example:none")),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::UnsupportedAlgorithm("urn:example:none".into()))),
    );
    add(
        "c14n-with-comments",
        "CVE-2017-11427 family: canonicalization that keeps comments changes what is signed",
        post(set_algorithm(&valid, "CanonicalizationMethod", C14N_WITH_COMMENTS)),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::DisallowedCanonicalization(C14N_WITH_COMMENTS.into()))),
    );
    {
        let env = crossfed_xmldsig::ENVELOPED_SIGNATURE;
        let exc = crossfed_xml::EXC_C14N;
        let transforms_end = "</ds:Transforms>";
        add(
            "xpath-transform",
            "XPath filter transform (XML-DSig §6.6.3), Somorovsky et al. 2012; W3C XML Signature Best Practices",
            post(replace_once(
                &valid,
                transforms_end,
                &format!(
                    "<ds:Transform Algorithm=\"{XPATH_NS}\"><ds:XPath>not(ancestor-or-self::saml:NameID)</ds:XPath></ds:Transform>{transforms_end}"
                ),
            )),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::DisallowedTransforms {
                found: format!("{env}, {exc}, {XPATH_NS}"),
            })),
        );
        add(
            "xslt-transform",
            "XSLT transform (code execution / DoS), Hill 2007 'Attacking XML Security'; W3C XML Signature Best Practices",
            post(replace_once(
                &valid,
                &format!("<ds:Transform Algorithm=\"{env}\"/>"),
                &format!("<ds:Transform Algorithm=\"{XSLT_NS}\"/><ds:Transform Algorithm=\"{env}\"/>"),
            )),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::DisallowedTransforms {
                found: format!("{XSLT_NS}, {env}, {exc}"),
            })),
        );
        add(
            "inclusive-namespaces-prefix-list",
            "InclusiveNamespaces PrefixList trick (exc-c14n §3), namespace injection into the digest",
            post(replace_once(
                &valid,
                &format!("<ds:Transform Algorithm=\"{exc}\"/>"),
                &format!(
                    "<ds:Transform Algorithm=\"{exc}\"><ec:InclusiveNamespaces xmlns:ec=\"{exc}\" PrefixList=\"samlp\"/></ds:Transform>"
                ),
            )),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::DigestMismatch)),
        );
        add(
            "two-signed-info",
            "xml-crypto CVE-2025-29774 (multiple SignedInfo)",
            post({
                let signed_info = fragment(&valid, DSIG_NS, "SignedInfo");
                replace_once(&valid, &signed_info, &format!("{signed_info}{signed_info}"))
            }),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::Malformed(
                "expected ds:SignatureValue in ds:Signature, found <ds:SignedInfo>".into(),
            ))),
        );
        add(
            "two-signatures-on-assertion",
            "Signature confusion: which of two signatures is checked (SAML Raider XSW catalogue, Compass Security)",
            post({
                let forged = fx.resign_assertion(&valid, &fx.attacker_key, |_| {});
                let theirs = fragment(&forged, DSIG_NS, "Signature");
                replace_once(&valid, &signature, &format!("{signature}{theirs}"))
            }),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::MultipleSignatures {
                element: "saml:Assertion".into(),
                count: 2,
            })),
        );
        add(
            "forged-digest-value-elsewhere",
            "CVE-2024-45409 ruby-saml (DigestValue taken from anywhere in the document)",
            post({
                // The assertion is changed and the digest of the changed assertion is placed
                // where a careless XPath (//ds:DigestValue) finds it first.
                let tampered =
                    replace_once(&valid, &format!(">{VICTIM}</saml:NameID>"), &format!(">{ADMIN}</saml:NameID>"));
                let doc = parse(&tampered);
                let assertion = first(&doc, ns::ASSERTION, "Assertion");
                let sig = first(&doc, DSIG_NS, "Signature");
                let mut buffer = Vec::new();
                canonicalize(
                    &doc,
                    assertion,
                    &C14nOptions { exclude: Some(sig), inclusive_prefixes: &[] },
                    &mut buffer,
                );
                let digest = STANDARD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &buffer));
                after_response_issuer(
                    &tampered,
                    &format!(
                        "<samlp:Extensions><ds:DigestValue xmlns:ds=\"{DSIG_NS}\">{digest}</ds:DigestValue></samlp:Extensions>"
                    ),
                )
            }),
            ctx(),
            exact(ValidationError::AssertionSignature(DsigError::DigestMismatch)),
        );
    }
    // --- Namespace tricks. -----------------------------------------------------------------
    add(
        "ds-prefix-redefined-on-signature",
        "Namespace confusion: ds prefix rebound to another namespace (XSW namespace variants)",
        post(replace_once(
            &valid,
            &format!("<ds:Signature xmlns:ds=\"{DSIG_NS}\">"),
            "<ds:Signature xmlns:ds=\"urn:example:not-dsig\">",
        )),
        ctx(),
        exact(ValidationError::Unsigned { required: SignatureRequirement::AssertionCovered }),
    );
    add(
        "saml-prefix-redefined-on-assertion",
        "Namespace confusion: saml prefix rebound on the assertion (CVE-2025-25291/25292 class)",
        post(edit_start_tag(&valid, &aid, |tag| rebind(tag, "saml", "urn:example:evil"))),
        ctx(),
        exact(ValidationError::AssertionCount { found: 0 }),
    );
    add(
        "saml-prefix-redefined-on-subject",
        "Namespace confusion: saml prefix rebound on an inner element of the signed assertion",
        post(replace_once(&valid, "<saml:Subject>", "<saml:Subject xmlns:saml=\"urn:example:evil\">")),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::DigestMismatch)),
    );
    add(
        "assertion-in-saml1-namespace",
        "Namespace confusion: a SAML 1.1 assertion in a SAML 2.0 response",
        post(edit_start_tag(&valid, &aid, |tag| rebind(tag, "saml", "urn:oasis:names:tc:SAML:1.0:assertion"))),
        ctx(),
        exact(ValidationError::AssertionCount { found: 0 }),
    );
    add(
        "response-in-another-namespace",
        "Namespace confusion: the Response element in a foreign namespace",
        post(replace_once(&valid, &format!("xmlns:samlp=\"{}\"", ns::PROTOCOL), "xmlns:samlp=\"urn:example:evil\"")),
        ctx(),
        exact(ValidationError::NotAResponse { found: "samlp:Response".into() }),
    );
    // --- Whitespace in IDs and references. -------------------------------------------------
    add(
        "newline-in-reference-uri",
        "ID / URI whitespace normalization differential between ID lookup and comparison",
        post(replace_once(&valid, &format!("URI=\"#{aid}\""), &format!("URI=\"#{aid}&#10;\""))),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::ReferenceMismatch {
            expected: aid.clone(),
            found: format!("#{aid}\n"),
        })),
    );
    add(
        "whitespace-in-assertion-id",
        "ID / URI whitespace normalization differential between ID lookup and comparison",
        post(edit_start_tag(&valid, &aid, |tag| tag.replace(&format!("ID=\"{aid}\""), &format!("ID=\" {aid}\"")))),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::ReferenceMismatch {
            expected: format!(" {aid}"),
            found: format!("#{aid}"),
        })),
    );
    // --- Protocol: replay, request binding, addressing. -------------------------------------
    add(
        "replay",
        "Replay of a bearer assertion, SAML profiles §4.1.4.5 (one-time use)",
        post(valid.clone()),
        Context { replay_first: true, ..ctx() },
        exact(ValidationError::Replay { id: aid.clone() }),
    );
    add(
        "wrong-in-response-to",
        "Login CSRF / response injection, SAML profiles §4.1.4.3 (InResponseTo)",
        post(valid.clone()),
        Context { request_id: Some("_another_request".into()), ..ctx() },
        exact(ValidationError::InResponseTo { expected: "_another_request".into(), found: Some(REQUEST_ID.into()) }),
    );
    add(
        "response-to-no-pending-request",
        "Login CSRF / response injection, SAML profiles §4.1.4.3 (InResponseTo)",
        post(valid.clone()),
        Context { request_id: None, ..ctx() },
        exact(ValidationError::UnexpectedInResponseTo { found: REQUEST_ID.into() }),
    );
    add(
        "unsolicited-when-disallowed",
        "Unsolicited response / login CSRF, SAML profiles §4.1.5",
        post(fx.build(&ResponseSpec { in_response_to: None, ..fx.spec() })),
        Context { request_id: None, ..ctx() },
        exact(ValidationError::Unsolicited),
    );
    {
        // The Response's InResponseTo (unsigned) edited to match; the signed one still differs.
        let other = fx.build(&ResponseSpec { in_response_to: Some("_stolen".into()), ..fx.spec() });
        let forged = other.replacen("InResponseTo=\"_stolen\"", &format!("InResponseTo=\"{REQUEST_ID}\""), 1);
        add(
            "unsigned-in-response-to-edited",
            "Response injection: only the unsigned protocol InResponseTo rewritten",
            post(forged),
            ctx(),
            exact(ValidationError::InResponseTo { expected: REQUEST_ID.into(), found: Some("_stolen".into()) }),
        );
    }
    add(
        "wrong-audience",
        "Assertion for another SP replayed here (audience confusion), SAML core §2.5.1.4",
        post(fx.build(&ResponseSpec { audiences: vec!["https://other-sp.example.com".into()], ..fx.spec() })),
        ctx(),
        exact(ValidationError::Audience { expected: sp.into(), found: vec!["https://other-sp.example.com".into()] }),
    );
    {
        let other_acs = "https://other-sp.example.com/acs";
        let theirs = fx.build(&ResponseSpec { destination: other_acs.into(), ..fx.spec() });
        add(
            "wrong-destination",
            "Response forwarded to another SP, SAML bindings §3.5.5.2 (Destination)",
            post(theirs.clone()),
            ctx(),
            exact(ValidationError::Destination { expected: acs.into(), found: Some(other_acs.into()) }),
        );
        add(
            "wrong-recipient-with-destination-edited",
            "Response forwarded to another SP, SAML profiles §4.1.4.2 (Recipient)",
            post(replace_once(&theirs, &format!("Destination=\"{other_acs}\""), &format!("Destination=\"{acs}\""))),
            ctx(),
            exact(ValidationError::Recipient { expected: acs.into(), found: Some(other_acs.into()) }),
        );
    }
    {
        let other_idp = "https://other-idp.example.com/saml";
        let theirs = fx.build(&ResponseSpec { issuer: other_idp.into(), ..fx.spec() });
        add(
            "wrong-response-issuer",
            "Issuer confusion between IdPs, SAML profiles §4.1.4.2",
            post(theirs.clone()),
            ctx(),
            exact(ValidationError::Issuer { element: "Response", expected: IDP.into(), found: Some(other_idp.into()) }),
        );
        add(
            "wrong-assertion-issuer-with-response-issuer-edited",
            "Issuer confusion between IdPs sharing a key, SAML profiles §4.1.4.2",
            post(replace_once(
                &theirs,
                &format!(">{other_idp}</saml:Issuer><samlp:Status>"),
                &format!(">{IDP}</saml:Issuer><samlp:Status>"),
            )),
            ctx(),
            exact(ValidationError::Issuer {
                element: "Assertion",
                expected: IDP.into(),
                found: Some(other_idp.into()),
            }),
        );
    }
    {
        let early = Fixture::now().plus_seconds(SKEW + 1);
        add(
            "not-before-beyond-skew",
            "Pre-dated assertion, SAML core §2.5.1.2 (NotBefore) with 120 s skew",
            post(fx.build_at(&fx.spec(), early)),
            ctx(),
            exact(ValidationError::NotYetValid {
                not_before: early.to_xml(),
                now: Fixture::now().to_xml(),
                skew_seconds: SKEW,
            }),
        );
        let late = Fixture::t0().plus_seconds(300 + SKEW);
        add(
            "expired-beyond-skew",
            "Stale assertion, SAML core §2.5.1.2 / profiles §4.1.4.2 (NotOnOrAfter) with 120 s skew",
            post(valid.clone()),
            Context { now: late, ..ctx() },
            exact(ValidationError::ConfirmationExpired {
                not_on_or_after: Fixture::t0().plus_seconds(300).to_xml(),
                now: late.to_xml(),
                skew_seconds: SKEW,
            }),
        );
    }
    add(
        "non-success-status",
        "Status ignored by the SP, SAML core §3.2.2.2",
        post(replace_once(&valid, ns::STATUS_SUCCESS, ns::STATUS_RESPONDER)),
        ctx(),
        exact(ValidationError::Status { code: ns::STATUS_RESPONDER.into(), sub_code: None, message: None }),
    );
    add(
        "encrypted-assertion-next-to-signed-one",
        "Encrypted assertion next to a plain one (which is read?), Jager and Somorovsky 2011 'How to Break XML Encryption'",
        post(replace_once(
            &valid,
            &signed_assertion,
            &format!(
                "<saml:EncryptedAssertion xmlns:saml=\"{}\"><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>{signed_assertion}",
                ns::ASSERTION
            ),
        )),
        ctx(),
        exact(ValidationError::EncryptedAssertion),
    );
    // --- Assertions an IdP signed that this SP must still refuse. ----------------------------
    add(
        "no-audience-restriction",
        "Missing AudienceRestriction, SAML profiles §4.1.4.2",
        post(fx.resign_assertion(&valid, &fx.idp_key, |doc| {
            let r = first(doc, ns::ASSERTION, "AudienceRestriction");
            doc.detach(r);
        })),
        ctx(),
        exact(ValidationError::NoAudienceRestriction),
    );
    add(
        "unknown-condition",
        "SAML core §2.5.1: a condition that cannot be evaluated makes the assertion Indeterminate",
        post(fx.resign_assertion(&valid, &fx.idp_key, |doc| {
            // Written as the delegation profile writes it: the schema's extension point with a type.
            let conditions = first(doc, ns::ASSERTION, "Conditions");
            let c =
                doc.append_element(conditions, crossfed_xml::QualifiedName::new("saml", "Condition", ns::ASSERTION));
            doc.declare_namespace(c, "xsi", ns::XSI).expect("namespace");
            doc.declare_namespace(c, "del", DELEGATION_NS).expect("namespace");
            let xsi_type = crossfed_xml::QualifiedName::new("xsi", "type", ns::XSI);
            doc.set_attribute(c, xsi_type, "del:DelegationRestrictionType").expect("type");
        })),
        ctx(),
        exact(ValidationError::UnknownCondition("saml:Condition xsi:type=\"del:DelegationRestrictionType\"".into())),
    );
    add(
        "bearer-without-not-on-or-after",
        "Bearer confirmation without expiry, SAML profiles §4.1.4.2",
        post(fx.resign_assertion(&valid, &fx.idp_key, |doc| {
            let data = first(doc, ns::ASSERTION, "SubjectConfirmationData");
            let keep: Vec<(String, String)> = doc
                .element(data)
                .map(|e| {
                    e.attributes()
                        .filter(|a| a.local != "NotOnOrAfter")
                        .map(|a| (a.local.to_string(), a.value.to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let fresh =
                doc.create_element(crossfed_xml::QualifiedName::new("saml", "SubjectConfirmationData", ns::ASSERTION));
            for (name, value) in &keep {
                doc.set_attribute(fresh, crossfed_xml::QualifiedName::plain(name), value).expect("attribute");
            }
            doc.insert_after(data, fresh);
            doc.detach(data);
        })),
        ctx(),
        exact(ValidationError::ConfirmationWithoutExpiry),
    );
    // --- More wrapping, parser and matching tricks. -----------------------------------------
    add(
        "evil-assertion-hidden-in-key-info",
        "XSW into unsigned KeyInfo content (KeyInfo is outside SignedInfo), Somorovsky et al. 2012",
        post(replace_once(
            &valid,
            "</ds:X509Data></ds:KeyInfo>",
            &format!("</ds:X509Data>{evil_other_id}</ds:KeyInfo>"),
        )),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    add(
        "xsw3-over-redirect-binding",
        "XSW #3, Somorovsky et al. 2012 'On Breaking SAML', delivered by HTTP-Redirect",
        Input::Redirect(
            redirect_query(
                MessageKind::Response,
                &replace_once(&valid, &signed_assertion, &format!("{evil_other_id}{signed_assertion}")),
                Some("relay"),
                None,
            )
            .expect("redirect query"),
        ),
        ctx(),
        exact(ValidationError::AssertionCount { found: 2 }),
    );
    add(
        "duplicate-id-attribute",
        "Parser differential on attributes (which ID wins); cf. Go encoding/xml round-trip CVE-2020-29509, Mattermost 2020",
        post(edit_start_tag(&valid, &aid, |tag| {
            tag.replace(&format!("ID=\"{aid}\""), &format!("ID=\"_evil\" ID=\"{aid}\""))
        })),
        ctx(),
        exact(ValidationError::Xml(XmlError::DuplicateAttribute {
            element: "saml:Assertion".into(),
            name: "ID".into(),
        })),
    );
    add(
        "non-utf8-declared-encoding",
        "Encoding differential (declared ISO-8859-1), CVE-2025-25291/25292 ruby-saml parser differential class",
        post(format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}", drop_declaration(&valid))),
        ctx(),
        Expected::like(
            "Xml(UnsupportedDeclaration(\"encoding ...\"))",
            |e| matches!(e, ValidationError::Xml(XmlError::UnsupportedDeclaration(d)) if d.contains("ISO-8859-1")),
        ),
    );
    add(
        "empty-signature-value",
        "Signature value stripping (empty SignatureValue), signature exclusion family, Somorovsky et al. 2012",
        post({
            let value = fragment(&valid, DSIG_NS, "SignatureValue");
            replace_once(&valid, &value, "<ds:SignatureValue></ds:SignatureValue>")
        }),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::BadSignature)),
    );
    add(
        "garbage-certificate-in-key-info",
        "Malformed KeyInfo certificate (key selection confusion)",
        post(replace_once(&valid, &fx.idp_key.certificate().to_base64(), "!!not-base64!!")),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::Base64("X509Certificate".into()))),
    );
    add(
        "saml-1-1-version",
        "Version downgrade, SAML core §3.2.2 (Version must be 2.0)",
        post(edit_start_tag(&valid, &response_id(&valid), |tag| tag.replace("Version=\"2.0\"", "Version=\"1.1\""))),
        ctx(),
        exact(ValidationError::Version { element: "Response", found: "1.1".into() }),
    );
    add(
        "encrypted-assertion-instead-of-assertion",
        "Encrypted assertion refused by configuration (no decryption key), Jager and Somorovsky 2011 'How to Break XML Encryption'",
        post(replace_once(
            &valid,
            &signed_assertion,
            &format!(
                "<saml:EncryptedAssertion xmlns:saml=\"{}\"><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml:EncryptedAssertion>",
                ns::ASSERTION
            ),
        )),
        ctx(),
        exact(ValidationError::EncryptedAssertion),
    );
    {
        let lookalike = format!("{sp}.evil.com");
        add(
            "audience-prefix-lookalike",
            "Audience prefix matching (starts_with), SAML core §2.5.1.4 requires URI equality",
            post(fx.build(&ResponseSpec { audiences: vec![lookalike.clone()], ..fx.spec() })),
            ctx(),
            exact(ValidationError::Audience { expected: sp.into(), found: vec![lookalike] }),
        );
        let acs_lookalike = format!("{acs}/../../evil");
        let theirs = fx.build(&ResponseSpec { destination: acs_lookalike.clone(), ..fx.spec() });
        add(
            "recipient-path-lookalike",
            "Recipient prefix / path matching, SAML profiles §4.1.4.2 requires the ACS URL",
            post(replace_once(&theirs, &format!("Destination=\"{acs_lookalike}\""), &format!("Destination=\"{acs}\""))),
            ctx(),
            exact(ValidationError::Recipient { expected: acs.into(), found: Some(acs_lookalike) }),
        );
    }
    {
        // A genuine IdP-signed failure Response (no assertion), with a genuine signed assertion
        // from another login slipped into it.
        let failure = fx.resign_response(&fx.signed(SignedParts::Response), &fx.idp_key, |doc| {
            let a = first(doc, ns::ASSERTION, "Assertion");
            doc.detach(a);
            let code = first(doc, ns::PROTOCOL, "StatusCode");
            doc.set_attribute(code, crossfed_xml::QualifiedName::plain("Value"), ns::STATUS_RESPONDER).expect("status");
        });
        add(
            "signed-failure-response-with-injected-assertion",
            "CVE-2022-39299 passport-saml (signed failure Response plus an injected assertion)",
            post(replace_once(&failure, "</samlp:Status>", &format!("</samlp:Status>{signed_assertion}"))),
            ctx(),
            exact(ValidationError::ResponseSignature(DsigError::DigestMismatch)),
        );
        add(
            "signed-failure-response-is-a-failure",
            "CVE-2022-39299 passport-saml (signed failure Response must end the login)",
            post(failure.clone()),
            ctx(),
            exact(ValidationError::Status { code: ns::STATUS_RESPONDER.into(), sub_code: None, message: None }),
        );
    }
    {
        let limits = crossfed_xml::Limits::default();
        let many = "<x:n/>".repeat(limits.max_nodes + 1);
        add(
            "too-many-nodes",
            "Resource exhaustion by node count, OWASP XML Security Cheat Sheet",
            post(after_response_issuer(
                &valid,
                &format!("<samlp:Extensions><x:b xmlns:x=\"urn:example:x\">{many}</x:b></samlp:Extensions>"),
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::TooManyNodes { limit: limits.max_nodes })),
        );
        let attributes: String = (0..=limits.max_attributes).map(|i| format!(" a{i}=\"v\"")).collect();
        add(
            "too-many-attributes",
            "Resource exhaustion by attribute count (attribute hash flooding), OWASP XML Security Cheat Sheet",
            post(after_response_issuer(
                &valid,
                &format!("<samlp:Extensions><x:b xmlns:x=\"urn:example:x\"{attributes}/></samlp:Extensions>"),
            )),
            ctx(),
            exact(ValidationError::Xml(XmlError::TooManyAttributes {
                element: "x:b".into(),
                limit: limits.max_attributes,
            })),
        );
    }
    add(
        "xpointer-reference",
        "XPointer reference forms resolved differently by verifiers (XML-DSig 1.1 §4.4.3.3)",
        post(replace_once(&valid, &format!("URI=\"#{aid}\""), &format!("URI=\"#xpointer(id('{aid}'))\""))),
        ctx(),
        exact(ValidationError::AssertionSignature(DsigError::ReferenceMismatch {
            expected: aid.clone(),
            found: format!("#xpointer(id('{aid}'))"),
        })),
    );
    {
        // Signed by the IdP, but with a time a lenient parser reads as local time, far ahead.
        let zoneless = "2026-11-25T23:59:59";
        add(
            "time-without-zone",
            "Time parsing differential (xs:dateTime without zone, read as local time by some parsers); SAML core §1.3.3 requires UTC",
            post(fx.resign_assertion(&valid, &fx.idp_key, |doc| {
                let data = first(doc, ns::ASSERTION, "SubjectConfirmationData");
                doc.set_attribute(data, crossfed_xml::QualifiedName::plain("NotOnOrAfter"), zoneless).expect("time");
            })),
            ctx(),
            exact(ValidationError::BadTime { field: "SubjectConfirmationData NotOnOrAfter", value: zoneless.into() }),
        );
        let ended = Fixture::t0().minus_seconds(SKEW + 1);
        add(
            "idp-session-already-ended",
            "SessionNotOnOrAfter in the past, SAML core §2.7.2",
            post(fx.build(&ResponseSpec { session_not_on_or_after: Some(ended), ..fx.spec() })),
            ctx(),
            exact(ValidationError::SessionExpired(ended.to_xml())),
        );
    }
    strict_cases(fx, &valid, &signed_assertion, &evil_other_id, &mut cases);
    cases
}

/// A schema error: `found` in `namespace` where its `parent` allows only `expected`.
fn unexpected(found: &str, namespace: &str, parent: &str, expected: &str) -> ValidationError {
    ValidationError::Schema(SchemaError::UnexpectedElement {
        found: found.into(),
        namespace: namespace.into(),
        parent: parent.into(),
        expected: expected.into(),
    })
}

/// An XInclude of a local file, which an XInclude-processing parser would read in.
fn xinclude(uri: &str) -> String {
    format!("<xi:include xmlns:xi=\"{uri}\" href=\"file:///etc/passwd\" parse=\"text\"/>")
}

/// Identity values with whitespace around them, and what the SAML 2.0 schemas do not allow:
/// each signed by the IdP where it sits in what a signature covers, so the rule it breaks is the
/// only reason to refuse it.
fn strict_cases(fx: &Fixture, valid: &str, signed_assertion: &str, evil_assertion: &str, cases: &mut Vec<Case>) {
    let mut add = |name: &'static str, source: &'static str, xml: String, expected: ValidationError| {
        cases.push(Case {
            name,
            source,
            input: post(xml),
            context: Context::default(),
            expected: Expected::Exact(expected),
        })
    };
    let padded = format!(" {VICTIM} ");
    add(
        "name-id-with-surrounding-whitespace",
        "Identity normalization: the IdP signs ' alice@example.com ', an SP that trims signs alice in; SAML core §1.3.1 (exact comparison, no trimming)",
        fx.build(&ResponseSpec { name_id: NameId { value: padded.clone(), ..fx.spec().name_id }, ..fx.spec() }),
        ValidationError::Identity(SurroundingWhitespace { element: "NameID", found: padded }),
    );
    let padded_issuer = format!("{IDP}\n");
    add(
        "issuer-with-surrounding-whitespace",
        "Issuer normalization: an SP that trims takes an Issuer signed with a trailing newline for its IdP's entity ID; SAML core §1.3.1 (exact comparison, no trimming)",
        fx.build(&ResponseSpec { issuer: padded_issuer.clone(), ..fx.spec() }),
        ValidationError::Identity(SurroundingWhitespace { element: "Issuer", found: padded_issuer }),
    );
    // An unsigned assertion for ADMIN beside the signed one, in a namespace a lenient reader
    // takes for SAML 2.0's.
    for (name, source, namespace) in [
        (
            "assertion-in-near-miss-namespace-beside-signed-one",
            "Namespace confusion: an Assertion whose namespace has a trailing space, beside the signed one (namespace URIs compared after trimming)",
            "urn:oasis:names:tc:SAML:2.0:assertion ",
        ),
        (
            "assertion-in-case-variant-namespace-beside-signed-one",
            "Namespace confusion: an Assertion in a case variant of the SAML 2.0 namespace, beside the signed one (namespace URIs compared case-insensitively)",
            "urn:oasis:names:tc:SAML:2.0:Assertion",
        ),
        (
            "saml1-assertion-beside-signed-one",
            "Namespace confusion: a SAML 1.0 Assertion beside the signed SAML 2.0 one (readers that match the local name only)",
            "urn:oasis:names:tc:SAML:1.0:assertion",
        ),
    ] {
        let foreign = edit_start_tag(evil_assertion, "_evil", |tag| rebind(tag, "saml", namespace));
        add(
            name,
            source,
            replace_once(valid, signed_assertion, &format!("{foreign}{signed_assertion}")),
            unexpected(
                "saml:Assertion",
                namespace,
                "samlp:Response",
                "saml:Assertion, saml:EncryptedAssertion or the end of <samlp:Response>",
            ),
        );
    }
    add(
        "xinclude-in-response-extensions",
        "XInclude (W3C XInclude 1.0) in the Response: a parser that expands it reads what no signature covers; OWASP XML Security Cheat Sheet",
        after_response_issuer(valid, &format!("<samlp:Extensions>{}</samlp:Extensions>", xinclude(ns::XINCLUDE))),
        ValidationError::Schema(SchemaError::XInclude {
            found: "xi:include".into(),
            namespace: ns::XINCLUDE.into(),
            parent: "samlp:Extensions".into(),
        }),
    );
    add(
        "xinclude-in-signed-assertion",
        "XInclude inside the signed assertion (open SubjectConfirmationData content), expanded after verification by an XInclude-processing parser; OWASP XML Security Cheat Sheet",
        fx.resign_assertion(valid, &fx.idp_key, |doc| {
            let data = first(doc, ns::ASSERTION, "SubjectConfirmationData");
            let include = parse(&xinclude(ns::XINCLUDE_DRAFT));
            let node = doc.import(&include, include.root()).expect("import");
            doc.append_child(data, node);
        }),
        ValidationError::Schema(SchemaError::XInclude {
            found: "xi:include".into(),
            namespace: ns::XINCLUDE_DRAFT.into(),
            parent: "saml:SubjectConfirmationData".into(),
        }),
    );
    add(
        "unknown-element-in-signed-subject",
        "Schema violation: a NameID look-alike in another namespace first in the signed Subject (readers matching the local name); saml-schema-assertion-2.0 SubjectType",
        fx.resign_assertion(valid, &fx.idp_key, |doc| {
            let subject = first(doc, ns::ASSERTION, "Subject");
            let decoy = doc.create_element(crossfed_xml::QualifiedName::new("ext", "NameID", EXT_NS));
            doc.declare_namespace(decoy, "ext", EXT_NS).expect("namespace");
            doc.append_text(decoy, ADMIN);
            doc.prepend_child(subject, decoy);
        }),
        unexpected(
            "ext:NameID",
            EXT_NS,
            "saml:Subject",
            "saml:BaseID, saml:NameID, saml:EncryptedID or saml:SubjectConfirmation",
        ),
    );
    add(
        "unknown-element-in-signed-conditions",
        "Schema violation: an element outside the schema in the signed Conditions (SAML core §2.5.1.1 makes it Indeterminate); saml-schema-assertion-2.0 ConditionsType",
        fx.resign_assertion(valid, &fx.idp_key, |doc| {
            let conditions = first(doc, ns::ASSERTION, "Conditions");
            let c = doc
                .append_element(conditions, crossfed_xml::QualifiedName::new("ext", "DelegationRestriction", EXT_NS));
            doc.declare_namespace(c, "ext", EXT_NS).expect("namespace");
        }),
        unexpected(
            "ext:DelegationRestriction",
            EXT_NS,
            "saml:Conditions",
            "saml:Condition, saml:AudienceRestriction, saml:OneTimeUse, saml:ProxyRestriction or the end of <saml:Conditions>",
        ),
    );
    add(
        "unknown-element-in-signed-audience-restriction",
        "Schema violation: an Audience look-alike in another namespace in the signed AudienceRestriction (readers matching the local name); saml-schema-assertion-2.0 AudienceRestrictionType",
        fx.resign_assertion(valid, &fx.idp_key, |doc| {
            let restriction = first(doc, ns::ASSERTION, "AudienceRestriction");
            let decoy = doc.append_element(restriction, crossfed_xml::QualifiedName::new("ext", "Audience", EXT_NS));
            doc.declare_namespace(decoy, "ext", EXT_NS).expect("namespace");
            doc.append_text(decoy, "https://other-sp.example.com");
        }),
        unexpected(
            "ext:Audience",
            EXT_NS,
            "saml:AudienceRestriction",
            "saml:Audience or the end of <saml:AudienceRestriction>",
        ),
    );
}
