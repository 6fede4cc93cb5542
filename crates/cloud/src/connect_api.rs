//! The Amazon Connect REST JSON API: instances (with their default profiles), users, and
//! GetFederationToken. Every call is SigV4-signed for the service `connect`.

use serde::Deserialize;
use serde_json::{Value, json};

use crossfed_iam::{RequestContext, evaluate};
use crossfed_store::ObjectKey;

use crate::auth::{Dialect, SignedRequest, authenticate};
use crate::error::AwsError;
use crate::federation::federate;
use crate::iam_api::role_permission_policies;
use crate::ids;
use crate::model::{
    ConnectInstance, ConnectUser, Credentials, DEFAULT_ROUTING_PROFILE, DEFAULT_SECURITY_PROFILES, IdentityInfo,
    Principal, Profile, Role, kind,
};
use crate::paging::{self, PageRequest};
use crate::state::App;

/// Status and JSON body (or the error) of one call.
pub type JsonResult = Result<(u16, Value), AwsError>;

fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidParameterException", 400, message)
}

fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::new("ResourceNotFoundException", 404, message)
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, AwsError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AwsError::new("InvalidRequestException", 400, format!("the request body is not valid: {e}")))
}

/// Which operation a method and path name, with the IDs in the path.
fn route<'p>(method: &str, segments: &[&'p str]) -> Option<(&'static str, Vec<&'p str>)> {
    let op = match (method, segments) {
        ("PUT", ["instance"]) => "CreateInstance",
        ("GET", ["instance"]) => "ListInstances",
        ("GET", ["instance", _]) => "DescribeInstance",
        ("DELETE", ["instance", _]) => "DeleteInstance",
        ("GET", ["security-profiles-summary", _]) => "ListSecurityProfiles",
        ("GET", ["routing-profiles-summary", _]) => "ListRoutingProfiles",
        ("PUT", ["users", _]) => "CreateUser",
        ("GET", ["users-summary", _]) => "ListUsers",
        ("GET", ["users", _, _]) => "DescribeUser",
        ("DELETE", ["users", _, _]) => "DeleteUser",
        ("POST", ["users", _, _, "identity-info"]) => "UpdateUserIdentityInfo",
        ("POST", ["users", _, _, "security-profiles"]) => "UpdateUserSecurityProfiles",
        ("POST", ["users", _, _, "routing-profile"]) => "UpdateUserRoutingProfile",
        ("GET", ["user", "federate", _]) => "GetFederationToken",
        _ => return None,
    };
    Some((op, segments.iter().skip(1).copied().filter(|s| *s != "federate").take(2).collect()))
}

pub async fn handle(app: &App, request: &SignedRequest<'_>, now: i64) -> JsonResult {
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let Some((operation, ids)) = route(request.method, &segments) else {
        return Err(AwsError::new(
            "UnknownOperationException",
            404,
            format!("No operation at {} {}", request.method, request.path),
        ));
    };
    let caller =
        authenticate(&app.resources, &app.settings, &app.administrator, request, "connect", Dialect::RestJson, now)
            .await?;
    let instance_id = ids.first().copied().unwrap_or("");
    let user_id = ids.get(1).copied().unwrap_or("");
    if operation == "GetFederationToken" {
        return get_federation_token(app, &caller, instance_id, now).await;
    }
    authorize(app, &caller, operation, instance_id).await?;
    match operation {
        "CreateInstance" => create_instance(app, request.body, now).await,
        "ListInstances" => list_instances(app, request.query).await,
        "DescribeInstance" => describe_instance(app, instance_id).await,
        "DeleteInstance" => delete_instance(app, instance_id).await,
        "ListSecurityProfiles" => {
            list_profiles(app, instance_id, kind::SECURITY_PROFILE, "SecurityProfileSummaryList", request.query).await
        }
        "ListRoutingProfiles" => {
            list_profiles(app, instance_id, kind::ROUTING_PROFILE, "RoutingProfileSummaryList", request.query).await
        }
        "CreateUser" => create_user(app, instance_id, request.body, now).await,
        "ListUsers" => list_users(app, instance_id, request.query).await,
        "DescribeUser" => describe_user(app, instance_id, user_id).await,
        "DeleteUser" => delete_user(app, instance_id, user_id).await,
        _ => update_user(app, operation, instance_id, user_id, request.body, now).await,
    }
}

/// The administrator may do everything; a role session needs `connect:OPERATION` on the
/// instance in its permission policies.
async fn authorize(app: &App, caller: &Credentials, operation: &str, instance_id: &str) -> Result<(), AwsError> {
    let Principal::AssumedRole { role_arn, .. } = &caller.principal else {
        return Ok(());
    };
    let role: Role = app
        .resources
        .role_by_arn(role_arn)
        .await?
        .ok_or_else(|| AwsError::new("AccessDeniedException", 403, format!("role {role_arn} no longer exists")))?
        .value;
    let named = role_permission_policies(&app.resources, &role).await?;
    let policies: Vec<&crossfed_iam::Policy> = named.iter().map(|(_, p)| p).collect();
    let resource = if instance_id.is_empty() {
        "*".to_string()
    } else {
        format!("arn:aws:connect:{}:{}:instance/{instance_id}", app.settings.region, app.settings.account)
    };
    let context = RequestContext::new(format!("connect:{operation}"), resource.clone())
        .with_key("aws:userid", caller.principal.user_id().as_str());
    if evaluate(&policies, &context).is_allowed() {
        Ok(())
    } else {
        Err(AwsError::new(
            "AccessDeniedException",
            403,
            format!(
                "User: {} is not authorized to perform: connect:{operation} on resource: {resource}",
                caller.principal.arn()
            ),
        ))
    }
}

async fn get_federation_token(app: &App, caller: &Credentials, instance_id: &str, now: i64) -> JsonResult {
    let grant =
        federate(&app.resources, &app.settings.region, caller, instance_id, now).await.map_err(|e| e.to_aws())?;
    let link = crate::federation::sign_in_link(&app.resources, &grant.session, now).await?;
    let sign_in_url = format!("{}/connect/{}/sign-in?token={}", app.settings.base_url, grant.instance.id, link.token);
    Ok((
        200,
        json!({
            "Credentials": {
                "AccessToken": grant.session.token,
                "AccessTokenExpiration": grant.session.expiration,
                "RefreshToken": ids::session_token(),
                "RefreshTokenExpiration": grant.session.expiration,
            },
            "SignInUrl": sign_in_url,
            "UserArn": grant.user.arn,
            "UserId": grant.user.id,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInstanceRequest {
    identity_management_type: String,
    instance_alias: Option<String>,
    inbound_calls_enabled: bool,
    outbound_calls_enabled: bool,
}

pub(crate) async fn create_instance(app: &App, bytes: &[u8], now: i64) -> JsonResult {
    let request: CreateInstanceRequest = body(bytes)?;
    match request.identity_management_type.as_str() {
        "SAML" | "CONNECT_MANAGED" => {}
        "EXISTING_DIRECTORY" => {
            return Err(AwsError::new(
                "InvalidRequestException",
                400,
                "EXISTING_DIRECTORY instances are not supported by this emulation; use SAML or CONNECT_MANAGED",
            ));
        }
        other => {
            return Err(invalid_parameter(format!(
                "IdentityManagementType {other:?} must be SAML, CONNECT_MANAGED or EXISTING_DIRECTORY"
            )));
        }
    }
    let alias = request
        .instance_alias
        .ok_or_else(|| invalid_parameter("InstanceAlias is required for SAML and CONNECT_MANAGED instances"))?;
    let valid_alias = (1..=45).contains(&alias.len())
        && alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !alias.starts_with('-')
        && !alias.ends_with('-');
    if !valid_alias {
        return Err(invalid_parameter(format!(
            "InstanceAlias {alias:?} must be 1 to 45 letters, digits and inner hyphens"
        )));
    }
    let account = &app.settings.account;
    let id = ids::uuid();
    let arn = format!("arn:aws:connect:{}:{account}:instance/{id}", app.settings.region);
    let instance = ConnectInstance {
        id: id.clone(),
        arn: arn.clone(),
        instance_alias: Some(alias.clone()),
        identity_management_type: request.identity_management_type,
        instance_status: "ACTIVE".to_string(),
        inbound_calls_enabled: request.inbound_calls_enabled,
        outbound_calls_enabled: request.outbound_calls_enabled,
        created_time: now,
        account: account.clone(),
    };
    let key = ObjectKey { kind: kind::CONNECT_INSTANCE, scope: account, name_key: &alias.to_lowercase(), id: &id };
    app.resources
        .insert_new(key, &instance, now, || {
            AwsError::new("DuplicateResourceException", 409, format!("An instance with alias {alias} already exists"))
        })
        .await?;
    // Like the real service, a new instance comes with its default profiles.
    for name in DEFAULT_SECURITY_PROFILES {
        insert_profile(app, &instance, kind::SECURITY_PROFILE, "security-profile", name, now).await?;
    }
    insert_profile(app, &instance, kind::ROUTING_PROFILE, "routing-profile", DEFAULT_ROUTING_PROFILE, now).await?;
    Ok((200, json!({"Id": id, "Arn": arn})))
}

async fn insert_profile(
    app: &App,
    instance: &ConnectInstance,
    kind: &str,
    arn_type: &str,
    name: &str,
    now: i64,
) -> Result<(), AwsError> {
    let id = ids::uuid();
    let profile = Profile {
        arn: format!("{}/{arn_type}/{id}", instance.arn),
        id,
        name: name.to_string(),
        instance_id: instance.id.clone(),
    };
    let key = ObjectKey { kind, scope: &instance.id, name_key: &name.to_lowercase(), id: &profile.id };
    app.resources.insert(key, &profile, now).await
}

async fn instance(app: &App, instance_id: &str) -> Result<ConnectInstance, AwsError> {
    app.resources
        .get::<ConnectInstance>(kind::CONNECT_INSTANCE, instance_id)
        .await?
        .map(|v| v.value)
        .ok_or_else(|| not_found(format!("Instance {instance_id} not found")))
}

fn instance_json(i: &ConnectInstance) -> Value {
    json!({
        "Id": i.id, "Arn": i.arn, "IdentityManagementType": i.identity_management_type, "InstanceAlias": i.instance_alias,
        "CreatedTime": i.created_time, "InstanceStatus": i.instance_status, "InboundCallsEnabled": i.inbound_calls_enabled,
        "OutboundCallsEnabled": i.outbound_calls_enabled,
    })
}

async fn list_instances(app: &App, query: &str) -> JsonResult {
    let request = PageRequest::from_query(query, paging::INSTANCES)?;
    let all = app.resources.list_keyed::<ConnectInstance>(kind::CONNECT_INSTANCE, &app.settings.account).await?;
    let (instances, next) = request.page(all);
    Ok((200, with_next(json!({"InstanceSummaryList": instances.iter().map(instance_json).collect::<Vec<_>>()}), next)))
}

/// Adds `NextToken` to a List answer when more pages remain.
fn with_next(mut answer: Value, next: Option<String>) -> Value {
    if let (Some(token), Some(fields)) = (next, answer.as_object_mut()) {
        fields.insert("NextToken".to_string(), Value::String(token));
    }
    answer
}

async fn describe_instance(app: &App, instance_id: &str) -> JsonResult {
    Ok((200, json!({"Instance": instance_json(&instance(app, instance_id).await?)})))
}

async fn delete_instance(app: &App, instance_id: &str) -> JsonResult {
    let i = instance(app, instance_id).await?;
    for kind in [kind::CONNECT_USER, kind::SECURITY_PROFILE, kind::ROUTING_PROFILE] {
        for o in app.resources.store.list_objects(kind, &i.id).await.map_err(AwsError::from)? {
            app.resources.delete(kind, &o.id).await?;
        }
    }
    app.resources.delete(kind::CONNECT_INSTANCE, &i.id).await?;
    Ok((200, json!({})))
}

use crossfed_store::ObjectStore;

async fn list_profiles(app: &App, instance_id: &str, kind: &str, list_name: &str, query: &str) -> JsonResult {
    let request = PageRequest::from_query(query, paging::SUMMARIES)?;
    instance(app, instance_id).await?;
    let (profiles, next) = request.page(app.resources.list_keyed::<Profile>(kind, instance_id).await?);
    let summaries: Vec<Value> = profiles.iter().map(|p| json!({"Id": p.id, "Arn": p.arn, "Name": p.name})).collect();
    Ok((200, with_next(json!({ list_name: summaries }), next)))
}

/// Usernames for SAML instances: up to 64 characters of letters, digits and `_-.@`.
fn check_username(username: &str) -> Result<(), AwsError> {
    let valid =
        (1..=64).contains(&username.len()) && username.chars().all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c));
    if valid {
        Ok(())
    } else {
        Err(invalid_parameter(format!("Username {username:?} must be 1 to 64 letters, digits and _-.@")))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserRequest {
    username: String,
    password: Option<String>,
    #[serde(default)]
    identity_info: IdentityInfo,
    phone_config: Option<PhoneConfig>,
    security_profile_ids: Vec<String>,
    routing_profile_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PhoneConfig {
    phone_type: String,
}

async fn check_profiles(
    app: &App,
    instance_id: &str,
    security: &[String],
    routing: Option<&str>,
) -> Result<(), AwsError> {
    if security.is_empty() {
        return Err(invalid_parameter("SecurityProfileIds must name at least one security profile"));
    }
    for id in security {
        let p: Option<crate::state::Versioned<Profile>> = app.resources.get(kind::SECURITY_PROFILE, id).await?;
        if p.is_none_or(|p| p.value.instance_id != instance_id) {
            return Err(invalid_parameter(format!("Security profile {id} does not exist in instance {instance_id}")));
        }
    }
    if let Some(id) = routing {
        let p: Option<crate::state::Versioned<Profile>> = app.resources.get(kind::ROUTING_PROFILE, id).await?;
        if p.is_none_or(|p| p.value.instance_id != instance_id) {
            return Err(invalid_parameter(format!("Routing profile {id} does not exist in instance {instance_id}")));
        }
    }
    Ok(())
}

pub(crate) async fn create_user(app: &App, instance_id: &str, bytes: &[u8], now: i64) -> JsonResult {
    let i = instance(app, instance_id).await?;
    let request: CreateUserRequest = body(bytes)?;
    check_username(&request.username)?;
    if i.identity_management_type == "CONNECT_MANAGED" && request.password.is_none() {
        return Err(invalid_parameter("Password is required for users of CONNECT_MANAGED instances"));
    }
    check_profiles(app, instance_id, &request.security_profile_ids, Some(&request.routing_profile_id)).await?;
    let id = ids::uuid();
    let user = ConnectUser {
        arn: format!("{}/agent/{id}", i.arn),
        id: id.clone(),
        username: request.username.clone(),
        instance_id: instance_id.to_string(),
        routing_profile_id: request.routing_profile_id,
        security_profile_ids: request.security_profile_ids,
        identity_info: request.identity_info,
        phone_type: request.phone_config.map_or_else(|| "SOFT_PHONE".to_string(), |p| p.phone_type),
        federated_role_arn: None,
    };
    let key =
        ObjectKey { kind: kind::CONNECT_USER, scope: instance_id, name_key: &request.username.to_lowercase(), id: &id };
    app.resources
        .insert_new(key, &user, now, || {
            AwsError::new(
                "DuplicateResourceException",
                409,
                format!("User {} already exists in instance {instance_id}", request.username),
            )
        })
        .await?;
    Ok((200, json!({"UserId": user.id, "UserArn": user.arn})))
}

fn user_json(u: &ConnectUser) -> Value {
    json!({
        "Id": u.id, "Arn": u.arn, "Username": u.username, "IdentityInfo": u.identity_info,
        "PhoneConfig": {"PhoneType": u.phone_type}, "SecurityProfileIds": u.security_profile_ids,
        "RoutingProfileId": u.routing_profile_id,
    })
}

async fn user(app: &App, instance_id: &str, user_id: &str) -> Result<crate::state::Versioned<ConnectUser>, AwsError> {
    instance(app, instance_id).await?;
    app.resources
        .get::<ConnectUser>(kind::CONNECT_USER, user_id)
        .await?
        .filter(|u| u.value.instance_id == instance_id)
        .ok_or_else(|| not_found(format!("User {user_id} not found in instance {instance_id}")))
}

async fn list_users(app: &App, instance_id: &str, query: &str) -> JsonResult {
    let request = PageRequest::from_query(query, paging::SUMMARIES)?;
    instance(app, instance_id).await?;
    let (users, next) = request.page(app.resources.list_keyed::<ConnectUser>(kind::CONNECT_USER, instance_id).await?);
    let summaries: Vec<Value> =
        users.iter().map(|u| json!({"Id": u.id, "Arn": u.arn, "Username": u.username})).collect();
    Ok((200, with_next(json!({"UserSummaryList": summaries}), next)))
}

async fn describe_user(app: &App, instance_id: &str, user_id: &str) -> JsonResult {
    Ok((200, json!({"User": user_json(&user(app, instance_id, user_id).await?.value)})))
}

async fn delete_user(app: &App, instance_id: &str, user_id: &str) -> JsonResult {
    let u = user(app, instance_id, user_id).await?;
    app.resources.delete(kind::CONNECT_USER, &u.value.id).await?;
    Ok((200, json!({})))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserUpdate {
    identity_info: Option<IdentityInfo>,
    security_profile_ids: Option<Vec<String>>,
    routing_profile_id: Option<String>,
}

async fn update_user(
    app: &App,
    operation: &str,
    instance_id: &str,
    user_id: &str,
    bytes: &[u8],
    now: i64,
) -> JsonResult {
    let mut u = user(app, instance_id, user_id).await?;
    let update: UserUpdate = body(bytes)?;
    match (operation, update) {
        ("UpdateUserIdentityInfo", UserUpdate { identity_info: Some(info), .. }) => u.value.identity_info = info,
        ("UpdateUserSecurityProfiles", UserUpdate { security_profile_ids: Some(ids), .. }) => {
            check_profiles(app, instance_id, &ids, None).await?;
            u.value.security_profile_ids = ids;
        }
        ("UpdateUserRoutingProfile", UserUpdate { routing_profile_id: Some(id), .. }) => {
            check_profiles(app, instance_id, &u.value.security_profile_ids, Some(&id)).await?;
            u.value.routing_profile_id = id;
        }
        (op, _) => return Err(invalid_parameter(format!("{op}: the request body lacks the field to update"))),
    }
    app.resources.update(kind::CONNECT_USER, &u.value.id, &u.value, u.version, now).await?;
    Ok((200, json!({})))
}
