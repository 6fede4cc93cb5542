//! Connect federation, shared by the GetFederationToken API and the console's federate URL:
//! the caller must be an assumed-role session whose permission policies allow
//! `connect:GetFederationToken` on `instance/ID/user/${aws:userid}`, the instance must use SAML,
//! and a Connect user must exist whose username is exactly the session name.

use crossfed_iam::{RequestContext, evaluate};
use crossfed_store::ObjectKey;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::iam_api::role_permission_policies;
use crate::ids;
use crate::model::{ConnectInstance, ConnectUser, Credentials, Principal, Role, kind};
use crate::state::Resources;

/// Why federation failed, each with what to fix; mapped to API error codes and console pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FederationError {
    InstanceNotFound { instance_id: String },
    NotSaml { instance_id: String, identity_management_type: String },
    NotAnAssumedRole { caller: String },
    NotAllowed { caller: String, resource: String, policies: Vec<String> },
    NoSuchUser { username: String, instance_id: String, near_miss: Option<String> },
    OtherRole { username: String, bound_role: String, caller_role: String },
    Store(AwsError),
}

impl FederationError {
    /// The API error a real client expects.
    pub fn to_aws(&self) -> AwsError {
        match self {
            FederationError::InstanceNotFound { .. } => AwsError::new("ResourceNotFoundException", 404, self.message()),
            FederationError::NotSaml { .. } | FederationError::NotAnAssumedRole { .. } => {
                AwsError::new("InvalidRequestException", 400, self.message())
            }
            FederationError::NotAllowed { .. } => AwsError::new("AccessDeniedException", 403, self.message()),
            FederationError::NoSuchUser { .. } => AwsError::new("UserNotFoundException", 404, self.message()),
            FederationError::OtherRole { .. } => AwsError::new("DuplicateResourceException", 409, self.message()),
            FederationError::Store(e) => e.clone(),
        }
    }

    /// A sentence for people: what is wrong and how to fix it.
    pub fn message(&self) -> String {
        match self {
            FederationError::InstanceNotFound { instance_id } => {
                format!(
                    "There is no Amazon Connect instance {instance_id} in this account. Check the instance ID in the relay state."
                )
            }
            FederationError::NotSaml { instance_id, identity_management_type } => format!(
                "Instance {instance_id} uses {identity_management_type} identity management, not SAML 2.0-based authentication. \
                 This cannot be changed after creation: create a new instance with identity management SAML and point the relay state at it."
            ),
            FederationError::NotAnAssumedRole { caller } => format!(
                "Provided identity {caller} cannot be used for federation with Amazon Connect: sign in through SAML to an IAM role."
            ),
            FederationError::NotAllowed { caller, resource, policies } => format!(
                "{caller} is not allowed connect:GetFederationToken on {resource}. The role's policies ({}) must allow \
                 connect:GetFederationToken on arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/user/${{aws:userid}}.",
                if policies.is_empty() { "none".to_string() } else { policies.join(", ") }
            ),
            FederationError::NoSuchUser { username, instance_id, near_miss } => {
                let hint = match near_miss {
                    Some(other) => {
                        format!(" A user named {other:?} exists, but usernames match exactly, including case.")
                    }
                    None => String::new(),
                };
                format!(
                    "No Amazon Connect user named {username:?} exists in instance {instance_id}. Connect does not create users \
                     at sign-in: create a user whose username equals the RoleSessionName the assertion carries, or turn on \
                     provisioning in the hub.{hint}"
                )
            }
            FederationError::OtherRole { username, bound_role, caller_role } => format!(
                "The Connect user {username:?} signed in through {bound_role} before and cannot sign in through {caller_role}. \
                 Delete and re-create the user to bind it to the new role."
            ),
            FederationError::Store(e) => e.to_string(),
        }
    }
}

impl From<AwsError> for FederationError {
    fn from(e: AwsError) -> Self {
        FederationError::Store(e)
    }
}

/// A federation token for the Connect console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectSession {
    pub token: String,
    pub instance_id: String,
    pub user_id: String,
    pub username: String,
    pub expiration: i64,
}

/// A one-time link into the Connect console: GetFederationToken's SignInUrl. It carries its own
/// short-lived token rather than the session's, so a leaked URL (browser history, proxy logs)
/// neither reveals the session token nor opens the console twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectSignInLink {
    pub token: String,
    pub instance_id: String,
    pub session_token: String,
    pub expiration: i64,
}

/// How long a SignInUrl may wait to be opened.
pub const SIGN_IN_LINK_SECONDS: i64 = 300;

/// Stores a new one-time link to `session`.
pub async fn sign_in_link(
    resources: &Resources,
    session: &ConnectSession,
    now: i64,
) -> Result<ConnectSignInLink, AwsError> {
    let link = ConnectSignInLink {
        token: ids::opaque_token(),
        instance_id: session.instance_id.clone(),
        session_token: session.token.clone(),
        expiration: session.expiration.min(now + SIGN_IN_LINK_SECONDS),
    };
    let key = ObjectKey {
        kind: kind::CONNECT_SIGN_IN_LINK,
        scope: &link.instance_id,
        name_key: &link.token,
        id: &link.token,
    };
    resources.insert(key, &link, now).await?;
    Ok(link)
}

/// The session a link opens, once: whoever deletes the link takes it, so of two concurrent
/// uses only one succeeds. `Ok(None)` for an unknown, used, expired or other-instance link; an
/// error only when the store fails.
pub async fn redeem_sign_in_link(
    resources: &Resources,
    instance_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<ConnectSession>, AwsError> {
    let Some(link) = resources.get::<ConnectSignInLink>(kind::CONNECT_SIGN_IN_LINK, token).await? else {
        return Ok(None);
    };
    match resources.delete(kind::CONNECT_SIGN_IN_LINK, token).await {
        Ok(()) => {}
        // Another request redeemed it first.
        Err(e) if e.code == "NoSuchEntity" => return Ok(None),
        Err(e) => return Err(e),
    }
    if link.value.instance_id != instance_id || link.value.expiration <= now {
        return Ok(None);
    }
    let session = resources.get::<ConnectSession>(kind::CONNECT_SESSION, &link.value.session_token).await?;
    Ok(session.map(|s| s.value).filter(|s| s.expiration > now))
}

/// What federation grants.
#[derive(Debug, Clone)]
pub struct Grant {
    pub instance: ConnectInstance,
    pub user: ConnectUser,
    pub session: ConnectSession,
}

/// Federation tokens last at most 12 hours, and never past the IAM session.
const MAX_CONNECT_SESSION: i64 = 12 * 3600;

/// The Connect user whose username is the session name, exactly, bound to `role_arn`: the
/// first federation binds it, later ones must come through the same role. Two first logins at
/// once both try to bind; the one that loses reads the user again and finds it bound.
async fn bound_connect_user(
    resources: &Resources,
    instance_id: &str,
    session_name: &str,
    role_arn: &str,
    now: i64,
) -> Result<crate::state::Versioned<ConnectUser>, FederationError> {
    let mut attempts = 0;
    loop {
        let found: Option<crate::state::Versioned<ConnectUser>> =
            resources.find(kind::CONNECT_USER, instance_id, &session_name.to_lowercase()).await?;
        let mut user = match found {
            Some(u) if u.value.username == session_name => u,
            other => {
                return Err(FederationError::NoSuchUser {
                    username: session_name.to_string(),
                    instance_id: instance_id.to_string(),
                    near_miss: other.map(|u| u.value.username),
                });
            }
        };
        match &user.value.federated_role_arn {
            Some(bound) if bound != role_arn => {
                return Err(FederationError::OtherRole {
                    username: session_name.to_string(),
                    bound_role: bound.clone(),
                    caller_role: role_arn.to_string(),
                });
            }
            Some(_) => return Ok(user),
            None => {
                user.value.federated_role_arn = Some(role_arn.to_string());
                match resources.update(kind::CONNECT_USER, &user.value.id, &user.value, user.version, now).await {
                    Ok(_) => return Ok(user),
                    Err(e) if e.code == "ConcurrentModification" && attempts < 3 => attempts += 1,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
}

pub async fn federate(
    resources: &Resources,
    region: &str,
    caller: &Credentials,
    instance_id: &str,
    now: i64,
) -> Result<Grant, FederationError> {
    let instance: ConnectInstance = resources
        .get(kind::CONNECT_INSTANCE, instance_id)
        .await?
        .ok_or_else(|| FederationError::InstanceNotFound { instance_id: instance_id.to_string() })?
        .value;
    let Principal::AssumedRole { role_arn, session_name, .. } = &caller.principal else {
        return Err(FederationError::NotAnAssumedRole { caller: caller.principal.arn() });
    };
    if instance.identity_management_type != "SAML" {
        return Err(FederationError::NotSaml {
            instance_id: instance.id.clone(),
            identity_management_type: instance.identity_management_type.clone(),
        });
    }

    // Authorization as AWS performs it: the session's role policies, for its own user ID.
    let user_id = caller.principal.user_id();
    let resource = format!("arn:aws:connect:{region}:{}:instance/{}/user/{user_id}", instance.account, instance.id);
    let role: Role = resources
        .role_by_arn(role_arn)
        .await?
        .ok_or_else(|| FederationError::NotAnAssumedRole { caller: caller.principal.arn() })?
        .value;
    let named = role_permission_policies(resources, &role).await?;
    let policies: Vec<&crossfed_iam::Policy> = named.iter().map(|(_, p)| p).collect();
    let context = RequestContext::new("connect:GetFederationToken", resource.clone())
        .with_key("aws:userid", user_id.as_str())
        .with_key("aws:username", session_name.as_str())
        .with_key("aws:PrincipalArn", role_arn.as_str());
    if !evaluate(&policies, &context).is_allowed() {
        return Err(FederationError::NotAllowed {
            caller: caller.principal.arn(),
            resource,
            policies: named.iter().map(|(n, _)| n.clone()).collect(),
        });
    }

    let user = bound_connect_user(resources, &instance.id, session_name, role_arn, now).await?;

    let expiration = caller.expiration.map_or(now + MAX_CONNECT_SESSION, |e| e.min(now + MAX_CONNECT_SESSION));
    let session = ConnectSession {
        token: ids::opaque_token(),
        instance_id: instance.id.clone(),
        user_id: user.value.id.clone(),
        username: user.value.username.clone(),
        expiration,
    };
    let key =
        ObjectKey { kind: kind::CONNECT_SESSION, scope: &instance.id, name_key: &session.token, id: &session.token };
    resources.insert(key, &session, now).await?;
    Ok(Grant { instance, user: user.value, session })
}
