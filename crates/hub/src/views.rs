//! Request and response bodies of the admin API: what the API takes and shows, and what the
//! chain checks read — from the hub they run in, or from a remote hub's API — and the CLI prints.

use std::collections::BTreeMap;

use crossfed_store::{ApiToken, Email, Group, ManagedBy, PrincipalKind, User};
use serde::{Deserialize, Serialize};

use crate::apps::spec::ApplicationSpec;
use crate::keys::RolloverStage;
use crate::upstream::Provisioning;

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub user_name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Sets a built-in-directory password.
    pub password: Option<String>,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/v1/users/{id}`: fields given are changed, others kept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub active: Option<bool>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub password: Option<String>,
}

/// A user as the API shows it: the record plus the names of its groups.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserView {
    #[serde(flatten)]
    pub user: User,
    pub groups: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// `POST /api/v1/groups`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    pub display_name: String,
    pub external_id: Option<String>,
    /// User names or IDs.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: Group,
    /// Member user names.
    pub members: Vec<String>,
}

/// `POST /api/v1/scim-tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    /// Days until the token stops working; without it, it works until revoked.
    pub expires_in_days: Option<i64>,
}

/// A new token: the only time its value is shown.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub record: ApiToken,
}

/// `POST /api/v1/scim-tokens/{id}/rotate` (and admin tokens'): both optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateToken {
    /// Hours the old token keeps working beside the new one (default 24, 0 to 720).
    pub overlap_hours: Option<i64>,
    /// Days until the new token expires (default: the old token's lifetime; none if it had none).
    pub expires_in_days: Option<i64>,
}

/// A rotation: the new token (its value shown this once) and the old one, which works until its
/// `expires_at`.
#[derive(Debug, Serialize)]
pub struct RotatedToken {
    pub token: String,
    #[serde(flatten)]
    pub record: ApiToken,
    pub replaced: ApiToken,
}

/// A token in a listing: its record, and at the hub's clock its state, the whole days it has
/// left and, when it should be rotated, why and how.
#[derive(Debug, Serialize)]
pub struct TokenView {
    #[serde(flatten)]
    pub record: ApiToken,
    /// `live`, `rotated` (replaced, working until `expires_at`), `expired` or `revoked`.
    pub state: &'static str,
    /// Whole days until `expires_at`, negative once past; absent for a token without expiry.
    pub days_left: Option<i64>,
    /// Set when the token expires within 30 days and nothing replaces it: what to run.
    pub warning: Option<String>,
}

/// An application as the API shows it: what launches use, and its settings as given (secrets
/// left out).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplicationView {
    pub id: String,
    pub name: String,
    pub template: String,
    pub managed_by: ManagedBy,
    pub version: i64,
    pub acs_url: String,
    pub audience: String,
    pub relay_state: Option<String>,
    /// The hub's IdP entity ID toward this application.
    pub entity_id: String,
    pub metadata_url: String,
    pub definition: ApplicationSpec,
    pub assignments: Vec<AssignmentView>,
    pub assigned_users: Vec<String>,
    pub assigned_groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssignmentView {
    pub kind: PrincipalKind,
    pub name: String,
    pub managed_by: ManagedBy,
}

/// `POST /api/v1/applications/{id}/preview`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// User name or ID.
    pub user: String,
}

/// What the application would receive for the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Preview {
    pub user: String,
    pub assigned: bool,
    pub active: bool,
    pub acs_url: String,
    pub audience: String,
    pub relay_state: Option<String>,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    pub attributes: Vec<PreviewAttribute>,
    /// Why a launch would be refused for a missing value, if it would.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviewAttribute {
    pub name: String,
    pub values: Vec<String>,
}

impl UpdateUser {
    /// Changes the fields given on `user`, keeping the others.
    pub fn apply_to(&self, user: &mut User) {
        if let Some(v) = &self.user_name {
            user.user_name = v.clone();
        }
        if let Some(v) = &self.email {
            user.emails = vec![Email::work(v)];
        }
        if let Some(v) = &self.given_name {
            user.given_name = Some(v.clone());
        }
        if let Some(v) = &self.family_name {
            user.family_name = Some(v.clone());
        }
        if let Some(v) = &self.display_name {
            user.display_name = Some(v.clone());
        }
        if let Some(v) = self.active {
            user.active = v;
        }
        if let Some(v) = &self.attributes {
            user.attributes = v.clone();
        }
    }
}

/// What `POST /api/v1/provisioning/sync` answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct SyncAnswer {
    pub connectors: Vec<String>,
    pub next_retry_at: Option<i64>,
}

impl CreateUser {
    pub fn emails(&self) -> Vec<Email> {
        self.email.iter().map(|e| Email::work(e)).collect()
    }
}

/// A certificate as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateView {
    pub subject: String,
    pub sha256: String,
    pub not_after: i64,
}

impl CertificateView {
    pub fn of(certificate: &crossfed_xmldsig::Certificate) -> Self {
        CertificateView {
            subject: certificate.subject().to_string(),
            sha256: certificate.fingerprint_hex(),
            not_after: certificate.not_after(),
        }
    }
}

/// The upstream IdP the hub trusts, as it trusts it now (the last good metadata copy).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentitySourceView {
    pub idp_entity_id: String,
    pub valid_until: Option<i64>,
    pub certificates: Vec<CertificateView>,
    pub sp_entity_id: String,
    pub acs_url: String,
    pub provisioning: Provisioning,
    pub allow_idp_initiated: bool,
}

impl Preview {
    /// The first value of attribute `name`, if the application receives it.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.name == name).and_then(|a| a.values.first()).map(String::as_str)
    }
}

impl UserView {
    /// What attribute mappings see of this user.
    pub fn values(&self) -> crate::apps::mapping::UserValues {
        crate::apps::mapping::UserValues::of(&self.user, self.groups.clone())
    }
}

/// One certificate, as a status shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyCertificateView {
    pub sha256: String,
    pub subject: String,
    pub not_after: i64,
    pub days_left: i64,
}

impl KeyCertificateView {
    /// The fingerprint's first 16 hex digits, as reports show it.
    pub fn short(&self) -> &str {
        self.sha256.get(..16).unwrap_or(&self.sha256)
    }

    pub fn of(certificate: &crossfed_xmldsig::Certificate, now: i64) -> KeyCertificateView {
        KeyCertificateView {
            sha256: certificate.fingerprint_hex(),
            subject: certificate.subject().to_string(),
            not_after: certificate.not_after(),
            days_left: (certificate.not_after() - now).div_euclid(86_400),
        }
    }
}

/// One role's keys and where its rollover stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleStatus {
    pub role: String,
    pub purpose: String,
    pub stage: RolloverStage,
    pub stage_text: String,
    pub current: KeyCertificateView,
    pub next: Option<KeyCertificateView>,
    pub previous: Option<KeyCertificateView>,
    pub activated_at: Option<i64>,
    /// With a previous key: the earliest time it may be retired.
    pub retire_after: Option<i64>,
    /// What to do next.
    pub next_step: String,
}

/// One role's status with who trusts its keys: what `crossfed check` and `crossfed keys status`
/// read (`GET /api/v1/keys/ROLE/peers`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleTrust {
    pub role: RoleStatus,
    pub peers: Vec<PeerTrust>,
}

/// Whether one peer trusts one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "trust", content = "detail", rename_all = "snake_case")]
pub enum Trust {
    Yes,
    No(String),
    /// The hub cannot tell (the peer does not say, or could not be asked).
    Unknown(String),
}

impl Trust {
    pub fn is_no(&self) -> bool {
        matches!(self, Trust::No(_))
    }
}

/// One peer of a role, and whether it trusts the current key and a staged next key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerTrust {
    /// Who: `identity source ENTITY`, `account ACCOUNT provider NAME (application ID)`, or
    /// `application ID`.
    pub peer: String,
    pub current: Trust,
    /// `None` when no next key is staged.
    pub next: Option<Trust>,
    /// With an activated key: whether the peer still trusts the previous one (a provider that
    /// still lists it is a rollover left half-done).
    pub previous: Option<Trust>,
}
