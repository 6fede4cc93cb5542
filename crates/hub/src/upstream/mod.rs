//! The hub as a service provider toward the corporate IdP: its SP metadata, SP-initiated login
//! (a signed Redirect-binding AuthnRequest), and turning an accepted assertion into a directory
//! user — created just in time, updated from the IdP's claims, or required to exist already.
//! The IdP's metadata is refreshed and uploaded through [`refresh`]; logins are started and
//! answered through [`login`].

pub mod login;
pub mod logout;
pub mod refresh;

use std::collections::BTreeMap;

use crossfed_saml::{
    Accepted, AuthnRequestSpec, EntityDescriptor, IndexedEndpoint, MessageKind, MetadataError, Timestamp,
    build_authn_request, ns, redirect_query,
};
use crossfed_store::{Email, NewUser, Store, StoreError, User, UserStore};
use crossfed_xmldsig::{Certificate, DsigError, SigningKey};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::directory::{Directory, DirectoryError};

/// Claim names Entra ID (Azure AD) sends, and their SAML-standard and short equivalents, for
/// each directory field.
const EMAIL_CLAIMS: [&str; 4] = [
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "email",
    "mail",
];
const GIVEN_NAME_CLAIMS: [&str; 3] =
    ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42", "givenName"];
const FAMILY_NAME_CLAIMS: [&str; 3] =
    ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "urn:oid:2.5.4.4", "sn"];
const DISPLAY_NAME_CLAIMS: [&str; 3] =
    ["http://schemas.microsoft.com/identity/claims/displayname", "urn:oid:2.16.840.1.113730.3.1.241", "displayName"];

/// The SP entity ID and ACS URL of a hub served at `base_url`.
pub fn sp_endpoints(base_url: &str) -> (String, String) {
    let base = base_url.trim_end_matches('/');
    (format!("{base}/saml/sp"), format!("{base}/saml/acs"))
}

/// The hub's single logout endpoint beside its ACS (`…/saml/acs` → `…/saml/slo`).
pub fn slo_url_beside(acs_url: &str) -> String {
    match acs_url.strip_suffix("/acs") {
        Some(base) => format!("{base}/slo"),
        None => format!("{}/slo", acs_url.trim_end_matches('/')),
    }
}

/// SP metadata for the hub's side toward its IdP, listing the signing certificates to trust
/// (the current one, and a staged next one during a rotation), and its logout endpoint.
pub fn sp_metadata_xml(sp_entity_id: &str, acs_url: &str, certificates: &[Certificate]) -> String {
    let mut entity =
        EntityDescriptor::sp(sp_entity_id, certificates.to_vec(), vec![IndexedEndpoint::post(acs_url, 0).as_default()]);
    if let Some(sp) = entity.sp.as_mut() {
        sp.single_logout_services = vec![crossfed_saml::Endpoint::redirect(slo_url_beside(acs_url))];
        sp.authn_requests_signed = true;
        sp.want_assertions_signed = true;
        sp.name_id_formats = vec![ns::NAMEID_PERSISTENT.to_string(), ns::NAMEID_EMAIL.to_string()];
    }
    entity.to_xml()
}

/// How users arriving from the IdP become directory users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provisioning {
    /// Create the user at first login, update it from the claims at every login.
    JustInTime,
    /// The user must exist already (created by SCIM or an administrator).
    Required,
}

/// The hub's SP side toward one IdP.
#[derive(Debug)]
pub struct IdentitySource {
    /// The hub's SP entity ID.
    pub sp_entity_id: String,
    pub acs_url: String,
    /// The IdP's metadata: the last good copy, replaced by each successful refresh.
    idp: std::sync::RwLock<std::sync::Arc<EntityDescriptor>>,
    pub provisioning: Provisioning,
    pub allow_idp_initiated: bool,
    /// Where the metadata is refreshed from, and how often.
    pub refresh: Option<MetadataRefresh>,
}

/// Where an IdP's metadata comes from, for periodic refresh.
#[derive(Debug, Clone)]
pub struct MetadataRefresh {
    pub file: Option<std::path::PathBuf>,
    pub url: Option<String>,
    pub every_seconds: u64,
}

#[derive(Debug, Error)]
pub enum SourceError {
    #[error(
        "the IdP metadata has no SingleSignOnService for the HTTP-Redirect binding; add one or import current metadata"
    )]
    NoRedirectSso,
    #[error("the IdP metadata describes no IdP role")]
    NotAnIdp,
    #[error("{0}; the hub keeps trying to refresh it from its source")]
    MetadataExpired(String),
    #[error("signing the AuthnRequest failed: {0}")]
    Signing(#[from] DsigError),
    #[error("user {0:?} is not provisioned in the hub; ask an administrator, or let the IdP provision users by SCIM")]
    NotProvisioned(String),
    #[error(
        "user {user_name:?} is linked to another identity at the IdP (NameID {linked:?}, not {presented:?}); an administrator must clear or correct the user's externalId"
    )]
    LinkedElsewhere { user_name: String, linked: String, presented: String },
    #[error(
        "{user_name:?} cannot sign in: the identity provider gives the e-mail address {email:?}, which belongs to another user of the hub. An address belongs to one user only; an administrator must correct the directory (the audit log names both users)."
    )]
    EmailTaken { user_name: String, email: String },
    #[error("the directory refused the user: {0}")]
    Store(#[from] StoreError),
    #[error("the directory refused the user: {0}")]
    Directory(#[from] DirectoryError),
    #[error(
        "the refreshed metadata describes {fresh:?}, not {current:?}; change the identity source to trust another IdP"
    )]
    OtherIdp { fresh: String, current: String },
    #[error("the metadata is not usable: {0}")]
    Unusable(#[from] MetadataError),
}

impl IdentitySource {
    pub fn new(
        sp_entity_id: String,
        acs_url: String,
        idp: EntityDescriptor,
        provisioning: Provisioning,
        allow_idp_initiated: bool,
    ) -> Self {
        IdentitySource {
            sp_entity_id,
            acs_url,
            idp: std::sync::RwLock::new(std::sync::Arc::new(idp)),
            provisioning,
            allow_idp_initiated,
            refresh: None,
        }
    }

    /// The current copy of the IdP's metadata.
    pub fn idp(&self) -> std::sync::Arc<EntityDescriptor> {
        match self.idp.read() {
            Ok(idp) => idp.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Takes a freshly fetched copy, if it describes the same IdP; otherwise the last good copy
    /// stays and the error says why.
    pub fn replace_idp(&self, fresh: EntityDescriptor, now: Timestamp) -> Result<(), SourceError> {
        let current = self.idp();
        if fresh.entity_id != current.entity_id {
            return Err(SourceError::OtherIdp { fresh: fresh.entity_id, current: current.entity_id.clone() });
        }
        self.adopt_idp(fresh, now)
    }

    /// Trusts a copy an administrator chose (an upload): it may describe another IdP.
    pub fn adopt_idp(&self, fresh: EntityDescriptor, now: Timestamp) -> Result<(), SourceError> {
        fresh.require_idp()?;
        fresh.check_valid_at(now)?;
        match self.idp.write() {
            Ok(mut idp) => *idp = std::sync::Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = std::sync::Arc::new(fresh),
        }
        Ok(())
    }

    /// The IdP's signing certificates (several during a key rollover), refused once the
    /// metadata's validUntil has passed.
    pub fn idp_certificates(&self, now: Timestamp) -> Result<Vec<Certificate>, SourceError> {
        let idp = self.idp();
        idp.check_valid_at(now).map_err(|e| SourceError::MetadataExpired(e.to_string()))?;
        Ok(idp.require_idp().map_err(|_| SourceError::NotAnIdp)?.signing_certificates.clone())
    }

    /// The hub's SP metadata, to upload to the IdP.
    pub fn sp_metadata(&self, certificates: &[Certificate]) -> String {
        sp_metadata_xml(&self.sp_entity_id, &self.acs_url, certificates)
    }

    /// Starts an SP-initiated login: the request ID to keep server-side with the pending login,
    /// and the URL to redirect the browser to.
    pub fn start_login(
        &self,
        key: &SigningKey,
        relay_state: Option<&str>,
        now: Timestamp,
    ) -> Result<(String, String), SourceError> {
        self.start_login_with(key, relay_state, false, now)
    }

    /// [`Self::start_login`], asking the IdP to authenticate the person afresh when
    /// `force_authn` is set (an application asked the hub for ForceAuthn).
    pub fn start_login_with(
        &self,
        key: &SigningKey,
        relay_state: Option<&str>,
        force_authn: bool,
        now: Timestamp,
    ) -> Result<(String, String), SourceError> {
        self.login_request(force_authn, now)?.sign(key, relay_state)
    }

    /// The AuthnRequest of an SP-initiated login, not signed yet (signing may run elsewhere).
    pub fn login_request(&self, force_authn: bool, now: Timestamp) -> Result<LoginRequest, SourceError> {
        let metadata = self.idp();
        let idp = metadata.require_idp().map_err(|_| SourceError::NotAnIdp)?;
        let sso = idp.sso_location(ns::BINDING_HTTP_REDIRECT).ok_or(SourceError::NoRedirectSso)?;
        let spec = AuthnRequestSpec {
            issuer: self.sp_entity_id.clone(),
            destination: sso.to_string(),
            acs_url: self.acs_url.clone(),
            protocol_binding: ns::BINDING_HTTP_POST.to_string(),
            name_id_format: None,
            force_authn,
        };
        let (id, xml) = build_authn_request(&spec, now, None)?;
        Ok(LoginRequest { id, xml, sso: sso.to_string() })
    }
}

/// An AuthnRequest for the IdP, to be signed into the Redirect binding's URL.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub id: String,
    xml: String,
    sso: String,
}

impl LoginRequest {
    /// The request ID and the signed URL to send the browser to. The Redirect binding signs the
    /// query, not the XML.
    pub fn sign(self, key: &SigningKey, relay_state: Option<&str>) -> Result<(String, String), SourceError> {
        let query = redirect_query(MessageKind::Request, &self.xml, relay_state, Some(key))?;
        let separator = if self.sso.contains('?') { '&' } else { '?' };
        Ok((self.id, format!("{}{separator}{query}", self.sso)))
    }
}

fn first_claim(accepted: &Accepted, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| accepted.attribute(n).and_then(|v| v.first()).filter(|v| !v.is_empty()).cloned())
}

/// The user name of an accepted assertion: the e-mail claim, or the NameID.
pub fn user_name_of(accepted: &Accepted) -> String {
    match accepted.name_id.format.as_deref() {
        Some(ns::NAMEID_EMAIL) => accepted.name_id.value.clone(),
        _ => first_claim(accepted, &EMAIL_CLAIMS).unwrap_or_else(|| accepted.name_id.value.clone()),
    }
}

/// The actor of the directory changes a sign-in through the identity source makes.
pub const ACTOR: &str = "identity-source";

/// Finds or creates the directory user for an accepted assertion, refreshing names and e-mail
/// from the claims (through the directory service, audited). The IdP's NameID is kept as the
/// user's externalId.
pub async fn user_for_assertion(
    store: &Store,
    directory: &Directory,
    source: &IdentitySource,
    accepted: &Accepted,
) -> Result<User, SourceError> {
    let user_name = user_name_of(accepted);
    let email = first_claim(accepted, &EMAIL_CLAIMS).or_else(|| user_name.contains('@').then(|| user_name.clone()));
    let claimed = |names: &[&str]| first_claim(accepted, names);
    let existing = match store.find_user_by_external_id(&accepted.name_id.value).await? {
        Some(u) => Some(u),
        None => store.find_user_by_name(&user_name).await?,
    };
    // A user found by name only is the same person only if no other IdP subject claimed it before:
    // otherwise whoever the IdP lets claim that name would take over the account.
    if let Some(user) = &existing
        && let Some(linked) = &user.external_id
        && *linked != accepted.name_id.value
    {
        return Err(SourceError::LinkedElsewhere {
            user_name: user.user_name.clone(),
            linked: linked.clone(),
            presented: accepted.name_id.value.clone(),
        });
    }
    match (existing, source.provisioning) {
        (Some(mut user), _) => {
            let before = user.clone();
            if let Some(email) = &email
                && user.email() != Some(email.as_str())
            {
                user.emails = vec![Email::work(email)];
            }
            user.given_name = claimed(&GIVEN_NAME_CLAIMS).or(user.given_name);
            user.family_name = claimed(&FAMILY_NAME_CLAIMS).or(user.family_name);
            user.display_name = claimed(&DISPLAY_NAME_CLAIMS).or(user.display_name);
            if user.external_id.is_none() {
                user.external_id = Some(accepted.name_id.value.clone());
            }
            if user == before {
                return Ok(user);
            }
            directory.update_user(ACTOR, &user, None).await.map_err(refused)
        }
        (None, Provisioning::Required) => Err(SourceError::NotProvisioned(user_name)),
        (None, Provisioning::JustInTime) => {
            let new = NewUser {
                user_name,
                external_id: Some(accepted.name_id.value.clone()),
                emails: email.map(|e| vec![Email::work(&e)]).unwrap_or_default(),
                given_name: claimed(&GIVEN_NAME_CLAIMS),
                family_name: claimed(&FAMILY_NAME_CLAIMS),
                display_name: claimed(&DISPLAY_NAME_CLAIMS),
                active: true,
                attributes: BTreeMap::new(),
            };
            directory.create_user(ACTOR, &new, None).await.map_err(refused)
        }
    }
}

/// A directory write refused for a sign-in: an address another user holds is said without
/// naming that user to the person signing in (the directory's audit record names both).
fn refused(e: DirectoryError) -> SourceError {
    match e {
        DirectoryError::EmailTaken { user, email, .. } => SourceError::EmailTaken { user_name: user, email },
        other => SourceError::Directory(other),
    }
}
