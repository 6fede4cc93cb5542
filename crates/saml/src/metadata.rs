//! SAML 2.0 metadata (the `urn:oasis:names:tc:SAML:2.0:metadata` schema): reading what identity
//! and service providers publish, and writing the hub's own.
//!
//! Only what a SAML 2.0 web-SSO hub uses is modelled: the entity's ID and validity, its IdP and SP
//! SSO descriptors (keys, endpoints, NameID formats, signing flags), and its organization and
//! contacts. Everything else is read past without failing: WS-Federation `RoleDescriptor`s as in
//! Entra ID federation metadata, attribute-authority and PDP roles, `Extensions`, and SSO
//! descriptors for other protocols. Such skipped roles are remembered by name so that an error
//! about a missing role can say what the file holds instead.
//!
//! Unsigned and signed metadata are read by the same code: the reader is generic over [`Node`],
//! which a plain [`Element`] implements, and so does the [`SignedView`] of a verified signature,
//! which can only walk down into what the signature covers.

use crossfed_xml::{Document, Element, Limits, NodeId, QualifiedName, XML_NS, XmlError, parse_with_limits};
use crossfed_xmldsig::{
    Certificate, DsigError, SignOptions, SignedView, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped,
};
use thiserror::Error;

use crate::ns::{DSIG, METADATA, PROTOCOL, XSI};
use crate::timestamp::Timestamp;

// ---------------------------------------------------------------------------------------------
// Model
// ---------------------------------------------------------------------------------------------

/// One entity (an IdP, an SP, or both) as described by an `md:EntityDescriptor`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDescriptor {
    /// The `entityID`: the name the entity uses as Issuer and Audience.
    pub entity_id: String,
    /// The `ID` attribute, which a signature references. Needed to sign.
    pub id: Option<String>,
    /// When this description stops being trustworthy. When read from a file this is the earliest
    /// `validUntil` that applies: the entity's own, that of any enclosing `EntitiesDescriptor`,
    /// and that of the SSO descriptors that were read.
    pub valid_until: Option<Timestamp>,
    /// `cacheDuration` as written (an `xs:duration` such as `PT6H`); inherited from an enclosing
    /// `EntitiesDescriptor` when the entity has none of its own.
    pub cache_duration: Option<String>,
    pub idp: Option<IdpSsoDescriptor>,
    pub sp: Option<SpSsoDescriptor>,
    pub organization: Option<Organization>,
    pub contacts: Vec<ContactPerson>,
    /// Role descriptors that were read past, described for messages (for example
    /// `RoleDescriptor xsi:type="fed:SecurityTokenServiceType"`). Never written out.
    pub skipped_roles: Vec<String>,
}

/// The identity-provider role (`md:IDPSSODescriptor`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IdpSsoDescriptor {
    /// Keys the IdP signs with. Several during a key rollover; any of them may have signed.
    pub signing_certificates: Vec<Certificate>,
    pub encryption_certificates: Vec<Certificate>,
    pub single_sign_on_services: Vec<Endpoint>,
    pub single_logout_services: Vec<Endpoint>,
    pub name_id_formats: Vec<String>,
    /// `WantAuthnRequestsSigned`: the IdP refuses unsigned AuthnRequests.
    pub want_authn_requests_signed: bool,
}

/// The service-provider role (`md:SPSSODescriptor`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpSsoDescriptor {
    pub signing_certificates: Vec<Certificate>,
    pub encryption_certificates: Vec<Certificate>,
    pub assertion_consumer_services: Vec<IndexedEndpoint>,
    pub single_logout_services: Vec<Endpoint>,
    pub name_id_formats: Vec<String>,
    /// `AuthnRequestsSigned`: the SP signs its AuthnRequests.
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned`: the SP wants the assertion itself signed, not only the response.
    pub want_assertions_signed: bool,
}

/// An endpoint: where to send which kind of message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub binding: String,
    pub location: String,
    pub response_location: Option<String>,
}

/// An endpoint with an index, as assertion consumer services are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedEndpoint {
    pub binding: String,
    pub location: String,
    pub index: u16,
    /// `isDefault` as written; `None` when absent, which matters when choosing the default.
    pub is_default: Option<bool>,
}

/// A text in one language (`xml:lang`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    pub lang: String,
    pub value: String,
}

impl Localized {
    pub fn new(lang: impl Into<String>, value: impl Into<String>) -> Self {
        Localized { lang: lang.into(), value: value.into() }
    }
}

/// `md:Organization`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Organization {
    pub names: Vec<Localized>,
    pub display_names: Vec<Localized>,
    pub urls: Vec<Localized>,
}

/// `md:ContactPerson`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactPerson {
    /// `technical`, `support`, `administrative`, `billing` or `other`.
    pub contact_type: String,
    pub company: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub email_addresses: Vec<String>,
    pub telephone_numbers: Vec<String>,
}

/// An aggregate (`md:EntitiesDescriptor`), as federations publish. Nested aggregates are
/// flattened into [`EntitiesDescriptor::entities`].
#[derive(Debug, Clone, PartialEq)]
pub struct EntitiesDescriptor {
    pub name: Option<String>,
    pub id: Option<String>,
    pub valid_until: Option<Timestamp>,
    pub cache_duration: Option<String>,
    pub entities: Vec<EntityDescriptor>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why metadata could not be used. Messages name the element at fault and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MetadataError {
    #[error("the metadata is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error(
        "the document's root element is <{found}> (namespace \"{namespace}\"), but SAML metadata starts with \
         md:EntityDescriptor or md:EntitiesDescriptor in {METADATA}; check that the file or URL is the \
         metadata itself and not a login page or a SAML message"
    )]
    WrongRoot { found: String, namespace: String },
    #[error(
        "{location} has no entityID attribute; every md:EntityDescriptor must name its entity with entityID=\"...\""
    )]
    MissingEntityId { location: String },
    #[error(
        "KeyDescriptor #{position} (use: {usage}) of the {role} of {entity_id} is unusable: {reason}; replace \
         it with the entity's current certificate in base64 DER"
    )]
    BadCertificate { entity_id: String, role: &'static str, position: usize, usage: String, reason: String },
    #[error("{location} has no {attribute} attribute; add {attribute}=\"...\" (it is required)")]
    MissingAttribute { location: String, attribute: &'static str },
    #[error("{location} has {attribute}=\"{value}\", but {attribute} must be {expected}")]
    InvalidAttribute { location: String, attribute: &'static str, value: String, expected: &'static str },
    #[error("the {role} of {entity_id} has no {element}; add at least one md:{element} with Binding and Location")]
    MissingEndpoint { entity_id: String, role: &'static str, element: &'static str },
    #[error(
        "validUntil=\"{value}\" on {location} is not an xs:dateTime with a time zone, such as \
         2030-01-31T12:00:00Z"
    )]
    BadValidUntil { location: String, value: String },
    #[error(
        "{what} expired at {valid_until} (its validUntil) and it is now {now}; fetch a fresh copy from the \
         publisher"
    )]
    Expired { what: String, valid_until: Timestamp, now: Timestamp },
    #[error("{entity_id} has no {wanted}; the metadata contains {found}{hint}")]
    MissingRole { entity_id: String, wanted: &'static str, found: String, hint: &'static str },
    #[error(
        "the metadata signature does not verify: {0}; check that the configured certificate is the publisher's \
         current metadata-signing certificate and that the file was not modified"
    )]
    Signature(DsigError),
    #[error(
        "the aggregate holds {count} entities ({sample}); pick one by entityID with \
         EntitiesDescriptor::find_entity"
    )]
    MultipleEntities { count: usize, sample: String },
    #[error("no entity with entityID \"{entity_id}\" in the aggregate ({count} entities, for example {sample})")]
    EntityNotFound { entity_id: String, count: usize, sample: String },
    #[error("the md:EntitiesDescriptor contains no md:EntityDescriptor")]
    NoEntities,
    #[error(
        "entityID \"{entity_id}\" is described twice in the aggregate; refusing to guess which description \
         (and which keys) to trust"
    )]
    DuplicateEntity { entity_id: String },
    #[error("cannot sign the metadata of {what}: it has no ID attribute for the signature to reference; set one")]
    MissingId { what: String },
    #[error("signing the metadata failed: {0}")]
    Signing(DsigError),
}

// ---------------------------------------------------------------------------------------------
// The reader, generic over plain and signature-verified elements
// ---------------------------------------------------------------------------------------------

/// What the reader needs from an element. Implemented by [`Element`] (unsigned metadata) and by
/// [`SignedView`] (verified metadata), so both are read by the same code.
trait Node<'d>: Copy + 'd {
    fn qualified_name(&self) -> String;
    fn namespace(&self) -> &'d str;
    fn is(&self, ns: &str, local: &str) -> bool;
    fn attr(&self, local: &str) -> Option<&'d str>;
    fn attr_ns(&self, ns: &str, local: &str) -> Option<&'d str>;
    fn trimmed_text(&self) -> Result<&'d str, XmlError>;
    /// Child elements, collected: the handles' own iterators borrow the handle, and metadata is
    /// not read often enough for the small vectors to matter.
    fn elements(self) -> Vec<Self>;
}

impl<'d> Node<'d> for Element<'d> {
    fn qualified_name(&self) -> String {
        Element::qualified_name(self)
    }
    fn namespace(&self) -> &'d str {
        Element::namespace(self)
    }
    fn is(&self, ns: &str, local: &str) -> bool {
        Element::is(self, ns, local)
    }
    fn attr(&self, local: &str) -> Option<&'d str> {
        Element::attr(self, local)
    }
    fn attr_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        Element::attr_ns(self, ns, local)
    }
    fn trimmed_text(&self) -> Result<&'d str, XmlError> {
        Element::trimmed_text(self)
    }
    fn elements(self) -> Vec<Self> {
        self.child_elements().collect()
    }
}

impl<'d> Node<'d> for SignedView<'d> {
    fn qualified_name(&self) -> String {
        SignedView::qualified_name(self)
    }
    fn namespace(&self) -> &'d str {
        SignedView::namespace(self)
    }
    fn is(&self, ns: &str, local: &str) -> bool {
        SignedView::is(self, ns, local)
    }
    fn attr(&self, local: &str) -> Option<&'d str> {
        SignedView::attr(self, local)
    }
    fn attr_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        SignedView::attr_ns(self, ns, local)
    }
    fn trimmed_text(&self) -> Result<&'d str, XmlError> {
        SignedView::trimmed_text(self)
    }
    fn elements(self) -> Vec<Self> {
        self.child_elements().collect()
    }
}

fn named<'d, N: Node<'d>>(parent: N, ns: &'static str, local: &'static str) -> impl Iterator<Item = N> + 'd {
    parent.elements().into_iter().filter(move |e| e.is(ns, local))
}

fn first<'d, N: Node<'d>>(parent: N, ns: &'static str, local: &'static str) -> Option<N> {
    named(parent, ns, local).next()
}

fn trim_xml(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

/// An attribute with surrounding whitespace removed; empty counts as absent.
fn attr_trimmed<'d, N: Node<'d>>(e: N, local: &str) -> Option<&'d str> {
    e.attr(local).map(trim_xml).filter(|v| !v.is_empty())
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The root of a metadata document, read.
enum Root {
    Entity(Box<EntityDescriptor>),
    Entities(EntitiesDescriptor),
}

fn read_root<'d, N: Node<'d>>(root: N) -> Result<Root, MetadataError> {
    if root.is(METADATA, "EntityDescriptor") {
        let inherited = Inherited { valid_until: None, cache_duration: None };
        read_entity(root, &inherited, "the root md:EntityDescriptor").map(|e| Root::Entity(Box::new(e)))
    } else if root.is(METADATA, "EntitiesDescriptor") {
        read_entities(root).map(Root::Entities)
    } else {
        Err(wrong_root(root))
    }
}

fn wrong_root<'d, N: Node<'d>>(root: N) -> MetadataError {
    MetadataError::WrongRoot { found: root.qualified_name(), namespace: root.namespace().to_string() }
}

/// Validity inherited from enclosing aggregates.
struct Inherited<'a> {
    valid_until: Option<Timestamp>,
    cache_duration: Option<&'a str>,
}

fn read_valid_until<'d, N: Node<'d>>(
    e: N,
    location: impl FnOnce() -> String,
) -> Result<Option<Timestamp>, MetadataError> {
    match e.attr("validUntil") {
        None => Ok(None),
        Some(text) => Timestamp::parse(text)
            .map(Some)
            .ok_or_else(|| MetadataError::BadValidUntil { location: location(), value: text.to_string() }),
    }
}

fn read_cache_duration<'d, N: Node<'d>>(
    e: N,
    location: impl FnOnce() -> String,
) -> Result<Option<&'d str>, MetadataError> {
    match e.attr("cacheDuration").map(trim_xml) {
        None => Ok(None),
        Some(text) if is_xs_duration(text) => Ok(Some(text)),
        Some(text) => Err(MetadataError::InvalidAttribute {
            location: location(),
            attribute: "cacheDuration",
            value: text.to_string(),
            expected: "an xs:duration such as PT6H or P1D",
        }),
    }
}

fn read_entities<'d, N: Node<'d>>(root: N) -> Result<EntitiesDescriptor, MetadataError> {
    let where_ = || "the root md:EntitiesDescriptor".to_string();
    let valid_until = read_valid_until(root, where_)?;
    let cache_duration = read_cache_duration(root, where_)?;
    let mut entities = Vec::new();
    let inherited = Inherited { valid_until, cache_duration };
    collect_entities(root, &inherited, &mut entities)?;
    if entities.is_empty() {
        return Err(MetadataError::NoEntities);
    }
    let mut ids: Vec<&str> = entities.iter().map(|e| e.entity_id.as_str()).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|w| w.first() == w.get(1)) {
        let entity_id = pair.first().copied().unwrap_or_default().to_string();
        return Err(MetadataError::DuplicateEntity { entity_id });
    }
    Ok(EntitiesDescriptor {
        name: attr_trimmed(root, "Name").map(str::to_string),
        id: root.attr("ID").map(str::to_string),
        valid_until,
        cache_duration: cache_duration.map(str::to_string),
        entities,
    })
}

/// Reads the entities of an aggregate, descending into nested aggregates. Nesting depth is
/// bounded by the parser's depth limit.
fn collect_entities<'d, N: Node<'d>>(
    aggregate: N,
    inherited: &Inherited<'_>,
    out: &mut Vec<EntityDescriptor>,
) -> Result<(), MetadataError> {
    for child in aggregate.elements() {
        if child.is(METADATA, "EntityDescriptor") {
            let location = format!("md:EntityDescriptor #{} of the aggregate", out.len() + 1);
            out.push(read_entity(child, inherited, &location)?);
        } else if child.is(METADATA, "EntitiesDescriptor") {
            let where_ = || {
                let name = attr_trimmed(child, "Name").unwrap_or("(unnamed)");
                format!("the nested md:EntitiesDescriptor {name}")
            };
            let own_valid_until = read_valid_until(child, where_)?;
            let own_cache = read_cache_duration(child, where_)?;
            let nested = Inherited {
                valid_until: earliest(inherited.valid_until, own_valid_until),
                cache_duration: own_cache.or(inherited.cache_duration),
            };
            collect_entities(child, &nested, out)?;
        }
        // ds:Signature and md:Extensions are not entities.
    }
    Ok(())
}

/// Does a role descriptor's protocolSupportEnumeration list SAML 2.0?
fn supports_saml2<'d, N: Node<'d>>(role: N) -> bool {
    role.attr("protocolSupportEnumeration").is_some_and(|list| list.split_ascii_whitespace().any(|p| p == PROTOCOL))
}

fn describe_role<'d, N: Node<'d>>(role: N) -> String {
    let name = role.qualified_name();
    match role.attr_ns(XSI, "type") {
        Some(t) => format!("{name} xsi:type=\"{t}\""),
        None => name,
    }
}

fn read_entity<'d, N: Node<'d>>(
    node: N,
    inherited: &Inherited<'_>,
    location: &str,
) -> Result<EntityDescriptor, MetadataError> {
    let entity_id = attr_trimmed(node, "entityID")
        .ok_or_else(|| MetadataError::MissingEntityId { location: location.to_string() })?
        .to_string();
    let where_ = || format!("the md:EntityDescriptor of {entity_id}");
    let own_valid_until = read_valid_until(node, where_)?;
    let mut valid_until = earliest(inherited.valid_until, own_valid_until);
    let cache_duration = read_cache_duration(node, where_)?.or(inherited.cache_duration).map(str::to_string);

    let mut idp = None;
    let mut sp = None;
    let mut organization = None;
    let mut contacts = Vec::new();
    let mut skipped_roles = Vec::new();
    for child in node.elements() {
        if child.is(METADATA, "IDPSSODescriptor") {
            if idp.is_none() && supports_saml2(child) {
                let (descriptor, role_valid_until) = read_idp(child, &entity_id)?;
                idp = Some(descriptor);
                valid_until = earliest(valid_until, role_valid_until);
            } else {
                skipped_roles.push(skipped_sso_description(child, idp.is_some()));
            }
        } else if child.is(METADATA, "SPSSODescriptor") {
            if sp.is_none() && supports_saml2(child) {
                let (descriptor, role_valid_until) = read_sp(child, &entity_id)?;
                sp = Some(descriptor);
                valid_until = earliest(valid_until, role_valid_until);
            } else {
                skipped_roles.push(skipped_sso_description(child, sp.is_some()));
            }
        } else if [
            "RoleDescriptor",
            "AuthnAuthorityDescriptor",
            "AttributeAuthorityDescriptor",
            "PDPDescriptor",
            "AffiliationDescriptor",
        ]
        .iter()
        .any(|local| child.is(METADATA, local))
        {
            skipped_roles.push(describe_role(child));
        } else if child.is(METADATA, "Organization") {
            if organization.is_none() {
                organization = Some(read_organization(child)?);
            }
        } else if child.is(METADATA, "ContactPerson") {
            contacts.push(read_contact(child)?);
        }
        // ds:Signature, md:Extensions, md:AdditionalMetadataLocation: nothing the hub uses.
    }

    Ok(EntityDescriptor {
        id: node.attr("ID").map(str::to_string),
        entity_id,
        valid_until,
        cache_duration,
        idp,
        sp,
        organization,
        contacts,
        skipped_roles,
    })
}

fn skipped_sso_description<'d, N: Node<'d>>(role: N, already_have_one: bool) -> String {
    let name = role.qualified_name();
    if already_have_one && supports_saml2(role) {
        format!("a second {name} (only the first SAML 2.0 one is used)")
    } else {
        let protocols = role.attr("protocolSupportEnumeration").map(trim_xml).unwrap_or("");
        format!("{name} for protocols \"{protocols}\" (not SAML 2.0)")
    }
}

/// Where in an entity the reader is, for messages.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    entity_id: &'a str,
    role: &'static str,
}

impl Ctx<'_> {
    fn locate(&self, element: &str, position: usize) -> String {
        format!("md:{element} #{position} of the {} of {}", self.role, self.entity_id)
    }
}

fn read_idp<'d, N: Node<'d>>(role: N, entity_id: &str) -> Result<(IdpSsoDescriptor, Option<Timestamp>), MetadataError> {
    let ctx = Ctx { entity_id, role: "IDPSSODescriptor" };
    let role_location = || format!("the IDPSSODescriptor of {entity_id}");
    let valid_until = read_valid_until(role, role_location)?;
    let (signing_certificates, encryption_certificates) = read_keys(role, ctx)?;
    let single_sign_on_services = read_endpoints(role, ctx, "SingleSignOnService")?;
    if single_sign_on_services.is_empty() {
        return Err(MetadataError::MissingEndpoint {
            entity_id: entity_id.to_string(),
            role: ctx.role,
            element: "SingleSignOnService",
        });
    }
    let descriptor = IdpSsoDescriptor {
        signing_certificates,
        encryption_certificates,
        single_sign_on_services,
        single_logout_services: read_endpoints(role, ctx, "SingleLogoutService")?,
        name_id_formats: read_name_id_formats(role)?,
        want_authn_requests_signed: read_bool(role, "WantAuthnRequestsSigned", role_location)?.unwrap_or(false),
    };
    Ok((descriptor, valid_until))
}

fn read_sp<'d, N: Node<'d>>(role: N, entity_id: &str) -> Result<(SpSsoDescriptor, Option<Timestamp>), MetadataError> {
    let ctx = Ctx { entity_id, role: "SPSSODescriptor" };
    let role_location = || format!("the SPSSODescriptor of {entity_id}");
    let valid_until = read_valid_until(role, role_location)?;
    let (signing_certificates, encryption_certificates) = read_keys(role, ctx)?;
    let assertion_consumer_services = read_indexed_endpoints(role, ctx, "AssertionConsumerService")?;
    if assertion_consumer_services.is_empty() {
        return Err(MetadataError::MissingEndpoint {
            entity_id: entity_id.to_string(),
            role: ctx.role,
            element: "AssertionConsumerService",
        });
    }
    let descriptor = SpSsoDescriptor {
        signing_certificates,
        encryption_certificates,
        assertion_consumer_services,
        single_logout_services: read_endpoints(role, ctx, "SingleLogoutService")?,
        name_id_formats: read_name_id_formats(role)?,
        authn_requests_signed: read_bool(role, "AuthnRequestsSigned", role_location)?.unwrap_or(false),
        want_assertions_signed: read_bool(role, "WantAssertionsSigned", role_location)?.unwrap_or(false),
    };
    Ok((descriptor, valid_until))
}

/// `xs:boolean`: true, false, 1 or 0.
fn parse_xs_boolean(text: &str) -> Option<bool> {
    match trim_xml(text) {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn read_bool<'d, N: Node<'d>>(
    e: N,
    attribute: &'static str,
    location: impl FnOnce() -> String,
) -> Result<Option<bool>, MetadataError> {
    match e.attr(attribute) {
        None => Ok(None),
        Some(text) => parse_xs_boolean(text).map(Some).ok_or_else(|| MetadataError::InvalidAttribute {
            location: location(),
            attribute,
            value: text.to_string(),
            expected: "true or false",
        }),
    }
}

/// The KeyDescriptors of a role: (signing, encryption). A KeyDescriptor without `use` serves
/// both. Every KeyDescriptor is kept (key rollover publishes the old and the new key), and each
/// must carry a usable certificate: a key the hub cannot read is reported, not dropped, so that a
/// later signature failure is never the first sign of it.
fn read_keys<'d, N: Node<'d>>(role: N, ctx: Ctx<'_>) -> Result<(Vec<Certificate>, Vec<Certificate>), MetadataError> {
    let mut signing: Vec<Certificate> = Vec::new();
    let mut encryption: Vec<Certificate> = Vec::new();
    for (i, key) in named(role, METADATA, "KeyDescriptor").enumerate() {
        let position = i + 1;
        let usage = key.attr("use").map(trim_xml);
        let (for_signing, for_encryption) = match usage {
            None => (true, true),
            Some("signing") => (true, false),
            Some("encryption") => (false, true),
            Some(other) => {
                return Err(MetadataError::InvalidAttribute {
                    location: ctx.locate("KeyDescriptor", position),
                    attribute: "use",
                    value: other.to_string(),
                    expected: "\"signing\" or \"encryption\" (or absent, for both)",
                });
            }
        };
        let bad = |reason: String| MetadataError::BadCertificate {
            entity_id: ctx.entity_id.to_string(),
            role: ctx.role,
            position,
            usage: usage.unwrap_or("signing and encryption").to_string(),
            reason,
        };
        let key_info = first(key, DSIG, "KeyInfo").ok_or_else(|| bad("it has no ds:KeyInfo".to_string()))?;
        let mut found = 0usize;
        for data in named(key_info, DSIG, "X509Data") {
            for element in named(data, DSIG, "X509Certificate") {
                found += 1;
                let text = element.trimmed_text().map_err(|e| bad(e.to_string()))?;
                let certificate = Certificate::from_base64(text).map_err(|e| bad(e.to_string()))?;
                if for_signing && !signing.contains(&certificate) {
                    signing.push(certificate.clone());
                }
                if for_encryption && !encryption.contains(&certificate) {
                    encryption.push(certificate);
                }
            }
        }
        if found == 0 {
            return Err(bad(
                "its ds:KeyInfo has no ds:X509Data/ds:X509Certificate, and keys are only taken from certificates"
                    .to_string(),
            ));
        }
    }
    Ok((signing, encryption))
}

fn required_attr<'d, N: Node<'d>>(
    e: N,
    attribute: &'static str,
    location: impl FnOnce() -> String,
) -> Result<&'d str, MetadataError> {
    attr_trimmed(e, attribute).ok_or_else(|| MetadataError::MissingAttribute { location: location(), attribute })
}

fn read_endpoints<'d, N: Node<'d>>(
    role: N,
    ctx: Ctx<'_>,
    element: &'static str,
) -> Result<Vec<Endpoint>, MetadataError> {
    let mut out = Vec::new();
    for (i, e) in named(role, METADATA, element).enumerate() {
        let locate = || ctx.locate(element, i + 1);
        out.push(Endpoint {
            binding: required_attr(e, "Binding", locate)?.to_string(),
            location: required_attr(e, "Location", locate)?.to_string(),
            response_location: attr_trimmed(e, "ResponseLocation").map(str::to_string),
        });
    }
    Ok(out)
}

fn read_indexed_endpoints<'d, N: Node<'d>>(
    role: N,
    ctx: Ctx<'_>,
    element: &'static str,
) -> Result<Vec<IndexedEndpoint>, MetadataError> {
    let mut out: Vec<IndexedEndpoint> = Vec::new();
    for (i, e) in named(role, METADATA, element).enumerate() {
        let locate = || ctx.locate(element, i + 1);
        let binding = required_attr(e, "Binding", locate)?.to_string();
        let location = required_attr(e, "Location", locate)?.to_string();
        let index_text = required_attr(e, "index", locate)?;
        let index = index_text.parse::<u16>().map_err(|_| MetadataError::InvalidAttribute {
            location: locate(),
            attribute: "index",
            value: index_text.to_string(),
            expected: "a whole number from 0 to 65535",
        })?;
        if out.iter().any(|other| other.index == index) {
            return Err(MetadataError::InvalidAttribute {
                location: locate(),
                attribute: "index",
                value: index_text.to_string(),
                expected: "unique among the role's endpoints of this kind (requests select endpoints by index)",
            });
        }
        let is_default = read_bool(e, "isDefault", locate)?;
        out.push(IndexedEndpoint { binding, location, index, is_default });
    }
    Ok(out)
}

fn read_name_id_formats<'d, N: Node<'d>>(role: N) -> Result<Vec<String>, MetadataError> {
    let mut out = Vec::new();
    for e in named(role, METADATA, "NameIDFormat") {
        let format = e.trimmed_text()?;
        if !format.is_empty() {
            out.push(format.to_string());
        }
    }
    Ok(out)
}

/// Optional text children, trimmed; empty counts as absent.
fn optional_text<'d, N: Node<'d>>(parent: N, local: &'static str) -> Result<Option<String>, MetadataError> {
    match first(parent, METADATA, local) {
        Some(e) => Ok(Some(e.trimmed_text()?.to_string()).filter(|t| !t.is_empty())),
        None => Ok(None),
    }
}

fn all_text<'d, N: Node<'d>>(parent: N, local: &'static str) -> Result<Vec<String>, MetadataError> {
    let mut out = Vec::new();
    for e in named(parent, METADATA, local) {
        out.push(e.trimmed_text()?.to_string());
    }
    Ok(out)
}

/// Localized children. The schema requires `xml:lang`; where a publisher left it out, English
/// is assumed rather than refusing the whole file over a display string.
fn localized<'d, N: Node<'d>>(parent: N, local: &'static str) -> Result<Vec<Localized>, MetadataError> {
    let mut out = Vec::new();
    for e in named(parent, METADATA, local) {
        let lang = e.attr_ns(XML_NS, "lang").map(trim_xml).filter(|l| !l.is_empty()).unwrap_or("en");
        out.push(Localized::new(lang, e.trimmed_text()?));
    }
    Ok(out)
}

fn read_organization<'d, N: Node<'d>>(e: N) -> Result<Organization, MetadataError> {
    Ok(Organization {
        names: localized(e, "OrganizationName")?,
        display_names: localized(e, "OrganizationDisplayName")?,
        urls: localized(e, "OrganizationURL")?,
    })
}

/// A contact. `contactType` is required by the schema; "other" is assumed when it is missing.
fn read_contact<'d, N: Node<'d>>(e: N) -> Result<ContactPerson, MetadataError> {
    Ok(ContactPerson {
        contact_type: attr_trimmed(e, "contactType").unwrap_or("other").to_string(),
        company: optional_text(e, "Company")?,
        given_name: optional_text(e, "GivenName")?,
        surname: optional_text(e, "SurName")?,
        email_addresses: all_text(e, "EmailAddress")?,
        telephone_numbers: all_text(e, "TelephoneNumber")?,
    })
}

/// Is `text` an `xs:duration` (`-?PnYnMnDTnHnMnS`, at least one component, seconds may have a
/// fraction, `T` only when a time component follows)?
fn is_xs_duration(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let Some(body) = unsigned.strip_prefix('P') else {
        return false;
    };
    let (date, time) = match body.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (body, None),
    };
    let Some(date_parts) = duration_components(date, &['Y', 'M', 'D']) else {
        return false;
    };
    match time {
        None => date_parts > 0,
        Some(time) => duration_components(time, &['H', 'M', 'S']).is_some_and(|n| n > 0),
    }
}

/// Counts `<number><designator>` pairs, designators in the given order, each at most once; only
/// seconds take a decimal fraction. `None` if anything else is there.
fn duration_components(text: &str, designators: &[char]) -> Option<usize> {
    let mut count = 0;
    let mut next = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, tail) = rest.split_at(end);
        let designator = tail.chars().next()?;
        let offset = designators.iter().skip(next).position(|&d| d == designator)?;
        let valid_number = match number.split_once('.') {
            None => !number.is_empty(),
            Some((whole, fraction)) => {
                designator == 'S'
                    && !whole.is_empty()
                    && !fraction.is_empty()
                    && fraction.bytes().all(|b| b.is_ascii_digit())
            }
        };
        if !valid_number {
            return None;
        }
        next += offset + 1;
        count += 1;
        rest = tail.get(designator.len_utf8()..)?;
    }
    Some(count)
}

fn parse_document(xml: &[u8]) -> Result<Document, MetadataError> {
    Ok(parse_with_limits(xml, &Limits::metadata())?)
}

/// Parses a document and verifies the enveloped signature on its root, then reads the root
/// through the verified view only.
fn read_signed_root(xml: &[u8], trusted: &[Certificate]) -> Result<Root, MetadataError> {
    let doc = parse_document(xml)?;
    let root = doc.root_element();
    if !(root.is(METADATA, "EntityDescriptor") || root.is(METADATA, "EntitiesDescriptor")) {
        return Err(wrong_root(root));
    }
    let verified =
        verify_enveloped(&doc, doc.root(), trusted, &VerifyOptions::default()).map_err(MetadataError::Signature)?;
    read_root(verified.view())
}

fn sample_ids(entities: &[EntityDescriptor]) -> String {
    let mut sample: Vec<&str> = entities.iter().take(3).map(|e| e.entity_id.as_str()).collect();
    if entities.len() > 3 {
        sample.push("...");
    }
    sample.join(", ")
}

fn single_entity(aggregate: EntitiesDescriptor) -> Result<EntityDescriptor, MetadataError> {
    let count = aggregate.entities.len();
    let sample = sample_ids(&aggregate.entities);
    let mut entities = aggregate.entities.into_iter();
    match (entities.next(), entities.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(MetadataError::NoEntities),
        (Some(_), Some(_)) => Err(MetadataError::MultipleEntities { count, sample }),
    }
}

fn check_expiry(
    what: impl FnOnce() -> String,
    valid_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), MetadataError> {
    match valid_until {
        Some(valid_until) if valid_until <= now => Err(MetadataError::Expired { what: what(), valid_until, now }),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Public API: EntityDescriptor
// ---------------------------------------------------------------------------------------------

impl EntityDescriptor {
    /// An entity with no roles yet, and a fresh random ID so that it can be signed.
    pub fn new(entity_id: impl Into<String>) -> Self {
        EntityDescriptor {
            entity_id: entity_id.into(),
            id: Some(crate::id::new_id()),
            valid_until: None,
            cache_duration: None,
            idp: None,
            sp: None,
            organization: None,
            contacts: Vec::new(),
            skipped_roles: Vec::new(),
        }
    }

    /// An identity provider: its signing certificates and single sign-on endpoints.
    pub fn idp(
        entity_id: impl Into<String>,
        signing_certificates: Vec<Certificate>,
        single_sign_on_services: Vec<Endpoint>,
    ) -> Self {
        let mut entity = EntityDescriptor::new(entity_id);
        entity.idp = Some(IdpSsoDescriptor::new(signing_certificates, single_sign_on_services));
        entity
    }

    /// A service provider: its signing certificates and assertion consumer services.
    pub fn sp(
        entity_id: impl Into<String>,
        signing_certificates: Vec<Certificate>,
        assertion_consumer_services: Vec<IndexedEndpoint>,
    ) -> Self {
        let mut entity = EntityDescriptor::new(entity_id);
        entity.sp = Some(SpSsoDescriptor::new(signing_certificates, assertion_consumer_services));
        entity
    }

    /// Reads unsigned (or not-yet-trusted) metadata. The root may be an `md:EntityDescriptor`,
    /// or an `md:EntitiesDescriptor` holding exactly one entity; for larger aggregates use
    /// [`EntitiesDescriptor::parse`] and [`EntitiesDescriptor::find_entity`]. Expiry is not
    /// checked here: call [`EntityDescriptor::check_valid_at`].
    pub fn parse(xml: &[u8]) -> Result<EntityDescriptor, MetadataError> {
        let doc = parse_document(xml)?;
        match read_root(doc.root_element())? {
            Root::Entity(entity) => Ok(*entity),
            Root::Entities(aggregate) => single_entity(aggregate),
        }
    }

    /// Reads signed metadata: the enveloped signature on the root element (EntityDescriptor, or
    /// an EntitiesDescriptor holding exactly one entity) must verify with one of `trusted`, and
    /// only what it covers is read. The result must also be valid at `now`.
    pub fn parse_signed(
        xml: &[u8],
        trusted: &[Certificate],
        now: Timestamp,
    ) -> Result<EntityDescriptor, MetadataError> {
        let entity = match read_signed_root(xml, trusted)? {
            Root::Entity(entity) => *entity,
            Root::Entities(aggregate) => {
                aggregate.check_valid_at(now)?;
                single_entity(aggregate)?
            }
        };
        entity.check_valid_at(now)?;
        Ok(entity)
    }

    /// Refuses metadata whose `validUntil` is not after `now`. Metadata without `validUntil`
    /// passes: whether to accept that is the caller's policy.
    pub fn check_valid_at(&self, now: Timestamp) -> Result<(), MetadataError> {
        check_expiry(|| format!("the metadata of {}", self.entity_id), self.valid_until, now)
    }

    /// The IdP role, or an error saying what the metadata describes instead.
    pub fn require_idp(&self) -> Result<&IdpSsoDescriptor, MetadataError> {
        self.idp.as_ref().ok_or_else(|| MetadataError::MissingRole {
            entity_id: self.entity_id.clone(),
            wanted: "SAML 2.0 identity-provider role (md:IDPSSODescriptor)",
            found: self.contents(),
            hint: if self.sp.is_some() {
                "; this is service-provider metadata: configure it as an SP, or use the identity provider's own metadata"
            } else {
                ""
            },
        })
    }

    /// The SP role, or an error saying what the metadata describes instead.
    pub fn require_sp(&self) -> Result<&SpSsoDescriptor, MetadataError> {
        self.sp.as_ref().ok_or_else(|| MetadataError::MissingRole {
            entity_id: self.entity_id.clone(),
            wanted: "SAML 2.0 service-provider role (md:SPSSODescriptor)",
            found: self.contents(),
            hint: if self.idp.is_some() {
                "; this is identity-provider metadata: configure it as an IdP, or use the service provider's own metadata"
            } else {
                ""
            },
        })
    }

    /// What roles the entity has, for messages.
    fn contents(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.idp.is_some() {
            parts.push("an IDPSSODescriptor".to_string());
        }
        if self.sp.is_some() {
            parts.push("an SPSSODescriptor".to_string());
        }
        parts.extend(self.skipped_roles.iter().cloned());
        if parts.is_empty() { "no role descriptors at all".to_string() } else { parts.join(", ") }
    }

    /// The metadata as XML, `md:` and `ds:` prefixed, without a signature.
    pub fn to_xml(&self) -> String {
        crossfed_xml::to_xml(&self.to_document())
    }

    /// The metadata signed with `key` (enveloped, RSA-SHA256 or the key's algorithm, the
    /// certificate in KeyInfo). The entity needs an ID for the signature to reference.
    pub fn to_signed_xml(&self, key: &SigningKey) -> Result<String, MetadataError> {
        if self.id.is_none() {
            return Err(MetadataError::MissingId { what: self.entity_id.clone() });
        }
        sign_document(self.to_document(), key)
    }

    fn to_document(&self) -> Document {
        let mut doc = Document::new(md("EntityDescriptor"));
        let root = doc.root();
        declare_prefixes(&mut doc, root);
        write_entity(&mut doc, root, self);
        doc
    }
}

impl IdpSsoDescriptor {
    pub fn new(signing_certificates: Vec<Certificate>, single_sign_on_services: Vec<Endpoint>) -> Self {
        IdpSsoDescriptor { signing_certificates, single_sign_on_services, ..IdpSsoDescriptor::default() }
    }

    /// The Location of the first SingleSignOnService with this binding.
    pub fn sso_location(&self, binding: &str) -> Option<&str> {
        self.single_sign_on_services.iter().find(|e| e.binding == binding).map(|e| e.location.as_str())
    }

    /// The first SingleLogoutService with this binding.
    pub fn slo_service(&self, binding: &str) -> Option<&Endpoint> {
        self.single_logout_services.iter().find(|e| e.binding == binding)
    }
}

impl SpSsoDescriptor {
    pub fn new(signing_certificates: Vec<Certificate>, assertion_consumer_services: Vec<IndexedEndpoint>) -> Self {
        SpSsoDescriptor { signing_certificates, assertion_consumer_services, ..SpSsoDescriptor::default() }
    }

    /// The default assertion consumer service among those with `binding`, by the rule of the
    /// metadata specification (§2.2.3): the first with `isDefault="true"`; otherwise the first
    /// without an `isDefault` attribute; otherwise the first.
    pub fn default_acs(&self, binding: &str) -> Option<&IndexedEndpoint> {
        let candidates = self.assertion_consumer_services.iter().filter(|e| e.binding == binding);
        let mut first = None;
        let mut first_unmarked = None;
        for endpoint in candidates {
            match endpoint.is_default {
                Some(true) => return Some(endpoint),
                None if first_unmarked.is_none() => first_unmarked = Some(endpoint),
                _ => {}
            }
            if first.is_none() {
                first = Some(endpoint);
            }
        }
        first_unmarked.or(first)
    }

    /// The assertion consumer service with this index (AuthnRequest
    /// `AssertionConsumerServiceIndex`).
    pub fn acs_by_index(&self, index: u16) -> Option<&IndexedEndpoint> {
        self.assertion_consumer_services.iter().find(|e| e.index == index)
    }

    /// The first SingleLogoutService with this binding.
    pub fn slo_service(&self, binding: &str) -> Option<&Endpoint> {
        self.single_logout_services.iter().find(|e| e.binding == binding)
    }
}

impl Endpoint {
    pub fn new(binding: impl Into<String>, location: impl Into<String>) -> Self {
        Endpoint { binding: binding.into(), location: location.into(), response_location: None }
    }

    /// An HTTP-POST endpoint.
    pub fn post(location: impl Into<String>) -> Self {
        Endpoint::new(crate::ns::BINDING_HTTP_POST, location)
    }

    /// An HTTP-Redirect endpoint.
    pub fn redirect(location: impl Into<String>) -> Self {
        Endpoint::new(crate::ns::BINDING_HTTP_REDIRECT, location)
    }
}

impl IndexedEndpoint {
    pub fn new(binding: impl Into<String>, location: impl Into<String>, index: u16) -> Self {
        IndexedEndpoint { binding: binding.into(), location: location.into(), index, is_default: None }
    }

    /// An HTTP-POST endpoint, the usual assertion consumer service.
    pub fn post(location: impl Into<String>, index: u16) -> Self {
        IndexedEndpoint::new(crate::ns::BINDING_HTTP_POST, location, index)
    }

    /// Marks the endpoint `isDefault="true"`.
    pub fn as_default(mut self) -> Self {
        self.is_default = Some(true);
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Public API: EntitiesDescriptor
// ---------------------------------------------------------------------------------------------

impl EntitiesDescriptor {
    /// An aggregate of these entities, with a fresh random ID so that it can be signed.
    pub fn new(entities: Vec<EntityDescriptor>) -> Self {
        EntitiesDescriptor {
            name: None,
            id: Some(crate::id::new_id()),
            valid_until: None,
            cache_duration: None,
            entities,
        }
    }

    /// Reads an aggregate. A document whose root is a single `md:EntityDescriptor` is accepted
    /// too, as an aggregate of one. Expiry is not checked here.
    pub fn parse(xml: &[u8]) -> Result<EntitiesDescriptor, MetadataError> {
        let doc = parse_document(xml)?;
        Ok(match read_root(doc.root_element())? {
            Root::Entities(aggregate) => aggregate,
            Root::Entity(entity) => EntitiesDescriptor::of_one(*entity),
        })
    }

    /// Reads a signed aggregate (or a signed single entity): the signature on the root must
    /// verify with one of `trusted`, and the aggregate's own `validUntil` must be after `now`.
    /// Individual entities' validity is checked when one is used, with
    /// [`EntityDescriptor::check_valid_at`], so one stale entry does not take a whole federation
    /// down.
    pub fn parse_signed(
        xml: &[u8],
        trusted: &[Certificate],
        now: Timestamp,
    ) -> Result<EntitiesDescriptor, MetadataError> {
        let aggregate = match read_signed_root(xml, trusted)? {
            Root::Entities(aggregate) => aggregate,
            Root::Entity(entity) => EntitiesDescriptor::of_one(*entity),
        };
        aggregate.check_valid_at(now)?;
        Ok(aggregate)
    }

    fn of_one(entity: EntityDescriptor) -> Self {
        EntitiesDescriptor {
            name: None,
            id: None,
            valid_until: entity.valid_until,
            cache_duration: entity.cache_duration.clone(),
            entities: vec![entity],
        }
    }

    /// The entity with this entityID.
    pub fn find_entity(&self, entity_id: &str) -> Result<&EntityDescriptor, MetadataError> {
        self.entities.iter().find(|e| e.entity_id == entity_id).ok_or_else(|| MetadataError::EntityNotFound {
            entity_id: entity_id.to_string(),
            count: self.entities.len(),
            sample: sample_ids(&self.entities),
        })
    }

    /// Refuses an aggregate whose own `validUntil` is not after `now`.
    pub fn check_valid_at(&self, now: Timestamp) -> Result<(), MetadataError> {
        let what = || match &self.name {
            Some(name) => format!("the metadata aggregate {name}"),
            None => "the metadata aggregate".to_string(),
        };
        check_expiry(what, self.valid_until, now)
    }

    /// The aggregate as XML, without a signature.
    pub fn to_xml(&self) -> String {
        crossfed_xml::to_xml(&self.to_document())
    }

    /// The aggregate signed with `key`; it needs an ID.
    pub fn to_signed_xml(&self, key: &SigningKey) -> Result<String, MetadataError> {
        if self.id.is_none() {
            let what = self.name.clone().unwrap_or_else(|| "the aggregate".to_string());
            return Err(MetadataError::MissingId { what });
        }
        sign_document(self.to_document(), key)
    }

    fn to_document(&self) -> Document {
        let mut doc = Document::new(md("EntitiesDescriptor"));
        let root = doc.root();
        declare_prefixes(&mut doc, root);
        set_opt(&mut doc, root, "Name", self.name.as_deref());
        set_opt(&mut doc, root, "ID", self.id.as_deref());
        set_opt(&mut doc, root, "validUntil", self.valid_until.map(Timestamp::to_xml).as_deref());
        set_opt(&mut doc, root, "cacheDuration", self.cache_duration.as_deref());
        for entity in &self.entities {
            let node = doc.append_element(root, md("EntityDescriptor"));
            write_entity(&mut doc, node, entity);
        }
        doc
    }
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

fn md(local: &str) -> QualifiedName<'_> {
    QualifiedName::new("md", local, METADATA)
}

fn ds(local: &str) -> QualifiedName<'_> {
    QualifiedName::new("ds", local, DSIG)
}

fn declare_prefixes(doc: &mut Document, root: NodeId) {
    // Declaring on an element just created as one cannot fail; the results are ignored for that
    // reason only.
    let _ = doc.declare_namespace(root, "md", METADATA);
    let _ = doc.declare_namespace(root, "ds", DSIG);
}

/// Sets an unprefixed attribute. The node is always an element this module just created, the
/// only case in which `set_attribute` can fail being a non-element node.
fn set(doc: &mut Document, node: NodeId, name: &str, value: &str) {
    let _ = doc.set_attribute(node, QualifiedName::plain(name), value);
}

fn set_opt(doc: &mut Document, node: NodeId, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        set(doc, node, name, value);
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

fn write_entity(doc: &mut Document, node: NodeId, entity: &EntityDescriptor) {
    set(doc, node, "entityID", &entity.entity_id);
    set_opt(doc, node, "ID", entity.id.as_deref());
    set_opt(doc, node, "validUntil", entity.valid_until.map(Timestamp::to_xml).as_deref());
    set_opt(doc, node, "cacheDuration", entity.cache_duration.as_deref());
    if let Some(idp) = &entity.idp {
        let role = doc.append_element(node, md("IDPSSODescriptor"));
        set(doc, role, "protocolSupportEnumeration", PROTOCOL);
        set(doc, role, "WantAuthnRequestsSigned", bool_text(idp.want_authn_requests_signed));
        write_keys(doc, role, &idp.signing_certificates, &idp.encryption_certificates);
        write_endpoints(doc, role, "SingleLogoutService", &idp.single_logout_services);
        write_name_id_formats(doc, role, &idp.name_id_formats);
        write_endpoints(doc, role, "SingleSignOnService", &idp.single_sign_on_services);
    }
    if let Some(sp) = &entity.sp {
        let role = doc.append_element(node, md("SPSSODescriptor"));
        set(doc, role, "protocolSupportEnumeration", PROTOCOL);
        set(doc, role, "AuthnRequestsSigned", bool_text(sp.authn_requests_signed));
        set(doc, role, "WantAssertionsSigned", bool_text(sp.want_assertions_signed));
        write_keys(doc, role, &sp.signing_certificates, &sp.encryption_certificates);
        write_endpoints(doc, role, "SingleLogoutService", &sp.single_logout_services);
        write_name_id_formats(doc, role, &sp.name_id_formats);
        for acs in &sp.assertion_consumer_services {
            let e = doc.append_element(role, md("AssertionConsumerService"));
            set(doc, e, "Binding", &acs.binding);
            set(doc, e, "Location", &acs.location);
            set(doc, e, "index", &acs.index.to_string());
            if let Some(is_default) = acs.is_default {
                set(doc, e, "isDefault", bool_text(is_default));
            }
        }
    }
    if let Some(org) = &entity.organization {
        let e = doc.append_element(node, md("Organization"));
        write_localized(doc, e, "OrganizationName", &org.names);
        write_localized(doc, e, "OrganizationDisplayName", &org.display_names);
        write_localized(doc, e, "OrganizationURL", &org.urls);
    }
    for contact in &entity.contacts {
        let e = doc.append_element(node, md("ContactPerson"));
        set(doc, e, "contactType", &contact.contact_type);
        let singles =
            [("Company", &contact.company), ("GivenName", &contact.given_name), ("SurName", &contact.surname)];
        for (local, value) in singles {
            if let Some(value) = value {
                doc.append_text_element(e, md(local), value);
            }
        }
        for email in &contact.email_addresses {
            doc.append_text_element(e, md("EmailAddress"), email);
        }
        for phone in &contact.telephone_numbers {
            doc.append_text_element(e, md("TelephoneNumber"), phone);
        }
    }
}

fn write_keys(doc: &mut Document, role: NodeId, signing: &[Certificate], encryption: &[Certificate]) {
    let keys = signing.iter().map(|c| ("signing", c)).chain(encryption.iter().map(|c| ("encryption", c)));
    for (usage, certificate) in keys {
        let key = doc.append_element(role, md("KeyDescriptor"));
        set(doc, key, "use", usage);
        let info = doc.append_element(key, ds("KeyInfo"));
        let data = doc.append_element(info, ds("X509Data"));
        doc.append_text_element(data, ds("X509Certificate"), &certificate.to_base64());
    }
}

fn write_endpoints(doc: &mut Document, role: NodeId, local: &str, endpoints: &[Endpoint]) {
    for endpoint in endpoints {
        let e = doc.append_element(role, md(local));
        set(doc, e, "Binding", &endpoint.binding);
        set(doc, e, "Location", &endpoint.location);
        set_opt(doc, e, "ResponseLocation", endpoint.response_location.as_deref());
    }
}

fn write_name_id_formats(doc: &mut Document, role: NodeId, formats: &[String]) {
    for format in formats {
        doc.append_text_element(role, md("NameIDFormat"), format);
    }
}

fn write_localized(doc: &mut Document, parent: NodeId, local: &str, values: &[Localized]) {
    for value in values {
        let e = doc.append_text_element(parent, md(local), &value.value);
        let _ = doc.set_attribute(e, QualifiedName::new("xml", "lang", XML_NS), &value.lang);
    }
}

fn sign_document(mut doc: Document, key: &SigningKey) -> Result<String, MetadataError> {
    let root = doc.root();
    sign_enveloped(&mut doc, root, key, &SignOptions::default()).map_err(MetadataError::Signing)?;
    Ok(crossfed_xml::to_xml(&doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xs_durations() {
        for ok in ["PT6H", "P1D", "P1Y2M3DT4H5M6.5S", "-P10D", "PT0S", "P0Y", "PT1M"] {
            assert!(is_xs_duration(ok), "{ok}");
        }
        for bad in ["", "P", "PT", "6H", "P1H", "PT1D", "P1.5D", "PT1.S", "P1M1Y", "P1DT", "PT6h", "P1D1D", "P-1D"] {
            assert!(!is_xs_duration(bad), "{bad}");
        }
    }

    #[test]
    fn xs_booleans() {
        assert_eq!(parse_xs_boolean(" true "), Some(true));
        assert_eq!(parse_xs_boolean("1"), Some(true));
        assert_eq!(parse_xs_boolean("0"), Some(false));
        assert_eq!(parse_xs_boolean("TRUE"), None);
        assert_eq!(parse_xs_boolean("yes"), None);
    }

    fn acs(index: u16, is_default: Option<bool>) -> IndexedEndpoint {
        IndexedEndpoint {
            binding: crate::ns::BINDING_HTTP_POST.to_string(),
            location: format!("https://sp.example.com/acs/{index}"),
            index,
            is_default,
        }
    }

    #[test]
    fn default_acs_follows_the_specification() {
        let post = crate::ns::BINDING_HTTP_POST;
        let sp = |list: Vec<IndexedEndpoint>| SpSsoDescriptor::new(Vec::new(), list);
        // An explicit true wins wherever it is.
        let s = sp(vec![acs(0, None), acs(1, Some(false)), acs(2, Some(true)), acs(3, Some(true))]);
        assert_eq!(s.default_acs(post).unwrap().index, 2);
        // Otherwise the first without isDefault, even after an explicit false.
        let s = sp(vec![acs(5, Some(false)), acs(1, None), acs(0, None)]);
        assert_eq!(s.default_acs(post).unwrap().index, 1);
        // Otherwise the first.
        let s = sp(vec![acs(7, Some(false)), acs(3, Some(false))]);
        assert_eq!(s.default_acs(post).unwrap().index, 7);
        // Only endpoints of the binding count.
        let mut artifact = acs(9, Some(true));
        artifact.binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact".to_string();
        let s = sp(vec![artifact, acs(4, Some(false))]);
        assert_eq!(s.default_acs(post).unwrap().index, 4);
        assert!(s.default_acs(crate::ns::BINDING_HTTP_REDIRECT).is_none());
        assert_eq!(s.acs_by_index(9).unwrap().binding, "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact");
        assert!(s.acs_by_index(1).is_none());
    }
}
