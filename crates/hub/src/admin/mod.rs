//! The admin REST API (`/api/v1`, JSON, bearer tokens of purpose `admin`). Every handler
//! authorizes first, explicitly; every change is written to the audit log with the token's name
//! as the actor. The OpenAPI document is served at `/api/v1/openapi.json`.

pub(crate) mod applications;
mod error;
mod openapi;
pub mod types;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use crossfed_store::{
    ApiToken, AuditLog, AuditQuery, Group, GroupStore, NewUser, Outcome, Page, ProvisioningStore, TokenStore, User,
    UserStore,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::ApiError;
use types::*;

use crate::server::{Hub, audit, now};
use crate::tokens;

pub fn router() -> Router<Arc<Hub>> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(update_user).delete(delete_user))
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route("/api/v1/groups/{id}", get(get_group).delete(delete_group))
        .route("/api/v1/groups/{id}/members/{user}", put(add_member).delete(remove_member))
        .route("/api/v1/applications", get(applications::list).post(applications::create))
        .route(
            "/api/v1/applications/{id}",
            get(applications::get).put(applications::replace).delete(applications::delete),
        )
        .route(
            "/api/v1/applications/{id}/assignments/{kind}/{principal}",
            put(applications::assign).delete(applications::unassign),
        )
        .route("/api/v1/applications/{id}/preview", post(applications::preview))
        .route("/api/v1/admin-tokens", get(list_admin_tokens).post(create_admin_token))
        .route("/api/v1/admin-tokens/{id}", axum::routing::delete(revoke_admin_token))
        .route("/api/v1/scim-tokens", get(list_scim_tokens).post(create_scim_token))
        .route("/api/v1/scim-tokens/{id}", axum::routing::delete(revoke_scim_token))
        .route("/api/v1/provisioning", get(provisioning_status))
        .route("/api/v1/provisioning/sync", post(provisioning_sync))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/identity-source", get(identity_source))
        .route("/api/v1/identity-source/metadata", put(upload_identity_source_metadata))
}

type ApiResult = Result<Response, ApiError>;

fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResult {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(format!("encoding the answer: {e}")))?;
    Ok((status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the request body: {e}")))
}

/// The admin token the request carries; every handler starts here.
async fn authorize(hub: &Hub, headers: &HeaderMap) -> Result<ApiToken, ApiError> {
    tokens::authenticate(&hub.store, headers, tokens::ADMIN, now()).await.map_err(ApiError::from)
}

fn actor(token: &ApiToken) -> String {
    format!("admin:{}", token.name)
}

fn page(offset: Option<i64>, limit: Option<i64>) -> Page {
    Page { offset: offset.unwrap_or(0), limit: limit.unwrap_or(100) }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Paging {
    offset: Option<i64>,
    limit: Option<i64>,
}

pub(crate) async fn user_view(hub: &Hub, user: User) -> Result<UserView, ApiError> {
    let groups = hub.store.groups_of(&user.id).await?.into_iter().map(|g| g.display_name).collect();
    Ok(UserView { user, groups })
}

/// A user by ID or, failing that, by user name.
pub(crate) async fn find_user(hub: &Hub, key: &str) -> Result<User, ApiError> {
    if let Some(user) = hub.store.get_user(key).await? {
        return Ok(user);
    }
    hub.store.find_user_by_name(key).await?.ok_or_else(|| ApiError::not_found(format!("no user {key:?}")))
}

async fn find_group(hub: &Hub, key: &str) -> Result<Group, ApiError> {
    if let Some(group) = hub.store.get_group(key).await? {
        return Ok(group);
    }
    hub.store.find_group_by_name(key).await?.ok_or_else(|| ApiError::not_found(format!("no group {key:?}")))
}

/// The hash of a new password, or a 400 naming the rule it breaks.
async fn password_hash(password: Option<&str>) -> Result<Option<String>, ApiError> {
    match password {
        Some(p) => crate::password::hash_off_runtime(p)
            .await
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("password: {e}"))),
        None => Ok(None),
    }
}

async fn list_users(State(hub): State<Arc<Hub>>, headers: HeaderMap, Query(q): Query<Paging>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let (users, total) = hub.store.list_users(page(q.offset, q.limit)).await?;
    let mut items = Vec::with_capacity(users.len());
    for user in users {
        items.push(user_view(&hub, user).await?);
    }
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_user(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let request: CreateUser = parse(&body)?;
    // Hashed before anything is written; the user and its password are stored together.
    let hash = password_hash(request.password.as_deref()).await?;
    let new = NewUser {
        user_name: request.user_name.clone(),
        external_id: request.external_id.clone(),
        emails: request.emails(),
        given_name: request.given_name.clone(),
        family_name: request.family_name.clone(),
        display_name: request.display_name.clone(),
        active: request.active,
        attributes: request.attributes.clone(),
    };
    let user = hub.store.create_user_with_password(&new, hash.as_deref(), now()).await?;
    audit(&hub, &actor(&token), "user.create", Some(&user.user_name), Outcome::Success, String::new()).await;
    hub.directory_changed.notify_waiters();
    json(StatusCode::CREATED, &user_view(&hub, user).await?)
}

async fn get_user(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let user = find_user(&hub, &id).await?;
    json(StatusCode::OK, &user_view(&hub, user).await?)
}

async fn update_user(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let request: UpdateUser = parse(&body)?;
    let hash = password_hash(request.password.as_deref()).await?;
    let mut user = find_user(&hub, &id).await?;
    if let Some(v) = request.user_name {
        user.user_name = v;
    }
    if let Some(v) = request.email {
        user.emails = vec![crossfed_store::Email::work(&v)];
    }
    if let Some(v) = request.given_name {
        user.given_name = Some(v);
    }
    if let Some(v) = request.family_name {
        user.family_name = Some(v);
    }
    if let Some(v) = request.display_name {
        user.display_name = Some(v);
    }
    if let Some(v) = request.active {
        user.active = v;
    }
    if let Some(v) = request.attributes {
        user.attributes = v;
    }
    let user = hub.store.update_user_with_password(&user, hash.as_deref(), now()).await?;
    audit(&hub, &actor(&token), "user.update", Some(&user.user_name), Outcome::Success, String::new()).await;
    hub.directory_changed.notify_waiters();
    json(StatusCode::OK, &user_view(&hub, user).await?)
}

async fn delete_user(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let user = find_user(&hub, &id).await?;
    hub.store.delete_user(&user.id).await?;
    audit(&hub, &actor(&token), "user.delete", Some(&user.user_name), Outcome::Success, String::new()).await;
    hub.directory_changed.notify_waiters();
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn group_view(hub: &Hub, group: Group) -> Result<GroupView, ApiError> {
    let mut members = Vec::new();
    for id in hub.store.members(&group.id).await? {
        if let Some(user) = hub.store.get_user(&id).await? {
            members.push(user.user_name);
        }
    }
    members.sort_by_key(|m| m.to_lowercase());
    Ok(GroupView { group, members })
}

async fn list_groups(State(hub): State<Arc<Hub>>, headers: HeaderMap, Query(q): Query<Paging>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let (groups, total) = hub.store.list_groups(page(q.offset, q.limit)).await?;
    let mut items = Vec::with_capacity(groups.len());
    for group in groups {
        items.push(group_view(&hub, group).await?);
    }
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_group(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let request: CreateGroup = parse(&body)?;
    json(StatusCode::CREATED, &create_group_as(&hub, &actor(&token), &request).await?)
}

/// Creates a group with its members (an unknown member refuses it), audited as `actor`.
pub(crate) async fn create_group_as(hub: &Hub, actor: &str, request: &CreateGroup) -> Result<GroupView, ApiError> {
    // Members are resolved first: an unknown one refuses the request before the group exists.
    let mut member_ids = Vec::with_capacity(request.members.len());
    for member in &request.members {
        member_ids.push(find_user(hub, member).await?.id);
    }
    let group = hub
        .store
        .create_group_with_members(&request.display_name, request.external_id.as_deref(), &member_ids, now())
        .await?;
    audit(hub, actor, "group.create", Some(&group.display_name), Outcome::Success, String::new()).await;
    hub.directory_changed.notify_waiters();
    group_view(hub, group).await
}

async fn get_group(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let group = find_group(&hub, &id).await?;
    json(StatusCode::OK, &group_view(&hub, group).await?)
}

async fn delete_group(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let group = find_group(&hub, &id).await?;
    hub.store.delete_group(&group.id).await?;
    audit(&hub, &actor(&token), "group.delete", Some(&group.display_name), Outcome::Success, String::new()).await;
    hub.directory_changed.notify_waiters();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn add_member(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    json(StatusCode::OK, &change_membership(&hub, &actor(&token), &group, &user, true).await?)
}

async fn remove_member(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    json(StatusCode::OK, &change_membership(&hub, &actor(&token), &group, &user, false).await?)
}

/// Adds a user to a group or removes them (each named by ID or name), audited as `actor`.
pub(crate) async fn change_membership(
    hub: &Hub,
    actor: &str,
    group_key: &str,
    user_key: &str,
    add: bool,
) -> Result<GroupView, ApiError> {
    let group = find_group(hub, group_key).await?;
    let user = find_user(hub, user_key).await?;
    let detail = if add {
        hub.store.add_member(&group.id, &user.id).await?;
        format!("added {}", user.user_name)
    } else {
        hub.store.remove_member(&group.id, &user.id).await?;
        format!("removed {}", user.user_name)
    };
    audit(hub, actor, "group.members", Some(&group.display_name), Outcome::Success, detail).await;
    hub.directory_changed.notify_waiters();
    group_view(hub, group).await
}

async fn list_tokens(hub: &Hub, headers: &HeaderMap, purpose: &'static str) -> ApiResult {
    authorize(hub, headers).await?;
    let items = hub.store.list_tokens(purpose).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_token(hub: &Hub, headers: &HeaderMap, body: &Bytes, purpose: &'static str) -> ApiResult {
    let admin = authorize(hub, headers).await?;
    let request: CreateToken = parse(body)?;
    let now = now();
    let expires_at = match request.expires_in_days {
        Some(days) if !(1..=3650).contains(&days) => {
            return Err(ApiError::bad_request("expires_in_days: give 1 to 3650 days, or leave it out"));
        }
        Some(days) => Some(now + days * 86_400),
        None => None,
    };
    let (token, record) = tokens::issue(&hub.store, purpose, &request.name, expires_at, now).await?;
    let action = format!("{purpose}-token.create");
    audit(hub, &actor(&admin), &action, Some(&record.name), Outcome::Success, record.id.clone()).await;
    json(StatusCode::CREATED, &IssuedToken { token, record })
}

async fn revoke_token(hub: &Hub, headers: &HeaderMap, id: &str, purpose: &'static str) -> ApiResult {
    let admin = authorize(hub, headers).await?;
    if purpose == tokens::ADMIN && admin.id == id {
        return Err(ApiError::bad_request(
            "this request is authorized by the token it would revoke; revoke it with another admin token",
        ));
    }
    let record = hub.store.revoke_token(purpose, id, now()).await?;
    let action = format!("{purpose}-token.revoke");
    audit(hub, &actor(&admin), &action, Some(&record.name), Outcome::Success, record.id.clone()).await;
    json(StatusCode::OK, &record)
}

async fn list_scim_tokens(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> ApiResult {
    list_tokens(&hub, &headers, tokens::SCIM).await
}

async fn create_scim_token(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    create_token(&hub, &headers, &body, tokens::SCIM).await
}

async fn revoke_scim_token(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    revoke_token(&hub, &headers, &id, tokens::SCIM).await
}

async fn list_admin_tokens(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> ApiResult {
    list_tokens(&hub, &headers, tokens::ADMIN).await
}

async fn create_admin_token(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    create_token(&hub, &headers, &body, tokens::ADMIN).await
}

async fn revoke_admin_token(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    revoke_token(&hub, &headers, &id, tokens::ADMIN).await
}

async fn provisioning_status(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Query(q): Query<ProvisioningFilter>,
) -> ApiResult {
    authorize(&hub, &headers).await?;
    let items = hub.store.list_provisioning(q.connector.as_deref()).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

/// Starts a provisioning pass now instead of at the next interval.
async fn provisioning_sync(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    audit(&hub, &actor(&token), "provisioning.sync", None, Outcome::Success, String::new()).await;
    // One full pass, answered when it is done, so the caller reads fresh status right after.
    let next_retry = crate::provision::run_once(&hub).await;
    let connectors = crate::provision::connector_names(&hub).await;
    json(StatusCode::OK, &serde_json::json!({"connectors": connectors, "next_retry_at": next_retry}))
}

async fn audit_log(State(hub): State<Arc<Hub>>, headers: HeaderMap, Query(q): Query<AuditFilter>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let query = AuditQuery { actor: q.actor, action: q.action, since: q.since, until: q.until, limit: q.limit };
    let items = hub.store.query(&query).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

/// The upstream IdP the hub trusts, as it trusts it now (the last good metadata copy): what
/// `crossfed check` compares with the IdP's own metadata.
async fn identity_source(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> ApiResult {
    authorize(&hub, &headers).await?;
    match identity_source_view(&hub) {
        Some(view) => json(StatusCode::OK, &view),
        None => {
            Err(ApiError::not_found("this hub signs people in with its built-in directory; it has no identity source"))
        }
    }
}

/// Trusts the IdP metadata in the body from now on (kept in the store for every instance).
async fn upload_identity_source_metadata(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    if hub.identity_source.is_none() {
        return Err(ApiError::not_found(
            "this hub signs people in with its built-in directory; add [identity_source] to its configuration first",
        ));
    }
    crate::metadata_refresh::upload(&hub, &body, &actor(&token)).await.map_err(ApiError::bad_request)?;
    match identity_source_view(&hub) {
        Some(view) => json(StatusCode::OK, &view),
        None => Err(ApiError::internal("the identity source vanished")),
    }
}

/// The identity source's view; `None` with the built-in directory.
pub(crate) fn identity_source_view(hub: &Hub) -> Option<serde_json::Value> {
    let source = hub.identity_source.as_ref()?;
    let idp = source.idp();
    let certificates: Vec<CertificateView> =
        idp.idp.as_ref().map(|d| d.signing_certificates.iter().map(CertificateView::of).collect()).unwrap_or_default();
    Some(serde_json::json!({
        "idp_entity_id": idp.entity_id,
        "valid_until": idp.valid_until.map(|t| t.unix()),
        "certificates": certificates,
        "sp_entity_id": source.sp_entity_id,
        "acs_url": source.acs_url,
        "provisioning": source.provisioning,
        "allow_idp_initiated": source.allow_idp_initiated,
    }))
}
