//! The admin REST API (`/api/v1`, JSON, bearer tokens of purpose `admin`). Every handler takes
//! an [`AdminToken`], so none runs unauthorized; every change is written to the audit log with
//! the token's name as the actor (by the services: the directory, the applications). The OpenAPI
//! document is served at `/api/v1/openapi.json`; the bodies are [`crate::views`], read by
//! [`body::ApiJson`], and the query strings [`query`]'s. Every error is
//! [`crate::web::error::ApiError`]'s JSON body, those of requests no handler answers included
//! ([`crate::web::refusal`]).

mod applications;
mod auth;
mod body;
mod keys;
mod openapi;
mod query;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use crossfed_store::{AuditLog, GroupStore, NewUser, Outcome, ProvisioningStore, TokenStore, UserStore};

pub use auth::AdminToken;
use body::{ApiJson, ApiJsonOrEmpty, ApiResult, XmlBody, json};
pub use openapi::OPERATIONS;
use query::{ApiQuery, AuditFilter, Paging, ProvisioningFilter};

use crate::audit_queue::AuditError;
use crate::presenter::{change_membership, group_view, identity_source_view, token_views, user_view};
use crate::state::Hub;
use crate::tokens;
use crate::views::*;
use crate::web::error::ApiError;

pub fn routes() -> Router<Arc<Hub>> {
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
        .route("/api/v1/admin-tokens/{id}/rotate", post(rotate_admin_token))
        .route("/api/v1/scim-tokens", get(list_scim_tokens).post(create_scim_token))
        .route("/api/v1/scim-tokens/{id}", axum::routing::delete(revoke_scim_token))
        .route("/api/v1/scim-tokens/{id}/rotate", post(rotate_scim_token))
        .route("/api/v1/provisioning", get(provisioning_status))
        .route("/api/v1/provisioning/sync", post(provisioning_sync))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/identity-source", get(identity_source))
        .route("/api/v1/identity-source/metadata", put(upload_identity_source_metadata))
        .route("/api/v1/keys", get(keys::status))
        .route("/api/v1/keys/{role}/peers", get(keys::peers))
        .route("/api/v1/keys/{role}/{step}", post(keys::step))
}

async fn list_users(State(hub): State<Arc<Hub>>, _: AdminToken, ApiQuery(q): ApiQuery<Paging>) -> ApiResult {
    let (users, total) = hub.store.list_users(q.page()?).await?;
    let mut items = Vec::with_capacity(users.len());
    for user in users {
        items.push(user_view(&hub, user).await?);
    }
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_user(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    ApiJson(request): ApiJson<CreateUser>,
) -> ApiResult {
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
    let user = hub.directory.create_user(&token.actor(), &new, request.password.as_deref()).await?;
    json(StatusCode::CREATED, &user_view(&hub, user).await?)
}

async fn get_user(State(hub): State<Arc<Hub>>, _: AdminToken, Path(id): Path<String>) -> ApiResult {
    let user = hub.directory.find_user(&id).await?;
    json(StatusCode::OK, &user_view(&hub, user).await?)
}

async fn update_user(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateUser>,
) -> ApiResult {
    let mut user = hub.directory.find_user(&id).await?;
    request.apply_to(&mut user);
    let user = hub.directory.update_user(&token.actor(), &user, request.password.as_deref()).await?;
    json(StatusCode::OK, &user_view(&hub, user).await?)
}

async fn delete_user(State(hub): State<Arc<Hub>>, token: AdminToken, Path(id): Path<String>) -> ApiResult {
    let user = hub.directory.find_user(&id).await?;
    hub.directory.delete_user(&token.actor(), &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_groups(State(hub): State<Arc<Hub>>, _: AdminToken, ApiQuery(q): ApiQuery<Paging>) -> ApiResult {
    let (groups, total) = hub.store.list_groups(q.page()?).await?;
    let mut items = Vec::with_capacity(groups.len());
    for group in groups {
        items.push(group_view(&hub, group).await?);
    }
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_group(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    ApiJson(request): ApiJson<CreateGroup>,
) -> ApiResult {
    json(StatusCode::CREATED, &crate::presenter::create_group(&hub, &token.actor(), &request).await?)
}

async fn get_group(State(hub): State<Arc<Hub>>, _: AdminToken, Path(id): Path<String>) -> ApiResult {
    let group = hub.directory.find_group(&id).await?;
    json(StatusCode::OK, &group_view(&hub, group).await?)
}

async fn delete_group(State(hub): State<Arc<Hub>>, token: AdminToken, Path(id): Path<String>) -> ApiResult {
    let group = hub.directory.find_group(&id).await?;
    hub.directory.delete_group(&token.actor(), &group).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn add_member(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult {
    json(StatusCode::OK, &change_membership(&hub, &token.actor(), &group, &user, true).await?)
}

async fn remove_member(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path((group, user)): Path<(String, String)>,
) -> ApiResult {
    json(StatusCode::OK, &change_membership(&hub, &token.actor(), &group, &user, false).await?)
}

async fn list_tokens(hub: &Hub, purpose: &'static str) -> ApiResult {
    let items = token_views(hub, purpose).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

async fn create_token(hub: &Hub, admin: &AdminToken, request: CreateToken, purpose: &'static str) -> ApiResult {
    let now = hub.clock.unix();
    let expires_at = match request.expires_in_days {
        Some(days) if !(1..=tokens::MAX_LIFETIME_DAYS).contains(&days) => {
            return Err(ApiError::bad_request(format!(
                "expires_in_days: give 1 to {} days, or leave it out; found {days}",
                tokens::MAX_LIFETIME_DAYS
            )));
        }
        Some(days) => Some(now + days * 86_400),
        None => None,
    };
    let (token, record) = tokens::issue(&hub.store, purpose, &request.name, expires_at, now).await?;
    let action = format!("{purpose}-token.create");
    recorded(hub.audit.record(&admin.actor(), &action, Some(&record.name), Outcome::Success, record.id.clone()).await)?;
    json(StatusCode::CREATED, &IssuedToken { token, record })
}

/// A record that could not be stored: what it vouches for is not acknowledged.
fn recorded(stored: Result<(), AuditError>) -> Result<(), ApiError> {
    stored.map_err(|e| {
        ApiError::unrecorded(format!(
            "the audit record could not be stored ({e}); the request is not acknowledged: check before retrying"
        ))
    })
}

async fn revoke_token(hub: &Hub, admin: &AdminToken, id: &str, purpose: &'static str) -> ApiResult {
    if purpose == tokens::ADMIN && admin.0.id == id {
        return Err(ApiError::bad_request(
            "this request is authorized by the token it would revoke; revoke it with another admin token",
        ));
    }
    let record = hub.store.revoke_token(purpose, id, hub.clock.unix()).await?;
    let action = format!("{purpose}-token.revoke");
    recorded(hub.audit.record(&admin.actor(), &action, Some(&record.name), Outcome::Success, record.id.clone()).await)?;
    json(StatusCode::OK, &record)
}

/// Issues a successor to token `id` and bounds the old one's expiry by the overlap (one store
/// transaction), audited; the answer shows the new token this once and when the old one stops.
async fn rotate_token(
    hub: &Hub,
    admin: &AdminToken,
    id: &str,
    request: RotateToken,
    purpose: &'static str,
) -> ApiResult {
    let request =
        tokens::RotateRequest { overlap_hours: request.overlap_hours, expires_in_days: request.expires_in_days };
    let rotated = tokens::rotate(&hub.store, purpose, id, request, hub.clock.unix()).await?;
    let (old, new) = (&rotated.old, &rotated.new);
    let until = old.expires_at.map_or_else(|| "-".to_string(), tokens::utc_text);
    let detail = format!("{} replaced by {}; {} works until {until}", old.id, new.id, old.id);
    let action = format!("{purpose}-token.rotate");
    let stored = hub.audit.record(&admin.actor(), &action, Some(&new.name), Outcome::Success, detail).await;
    stored.map_err(|e| {
        // The rotation is stored; its new token, not acknowledged, is not shown: rotating that
        // successor gives another one, and the old token stops when its overlap ends anyway.
        ApiError::unrecorded(format!(
            "the rotation was stored but its audit record could not be ({e}); it is not acknowledged and the new token is not shown: once the audit log works, rotate the new token {} (the old one, {}, works until {until})",
            new.id, old.id
        ))
    })?;
    json(StatusCode::OK, &RotatedToken { token: rotated.token, record: rotated.new, replaced: rotated.old })
}

async fn list_scim_tokens(State(hub): State<Arc<Hub>>, _: AdminToken) -> ApiResult {
    list_tokens(&hub, tokens::SCIM).await
}

async fn create_scim_token(
    State(hub): State<Arc<Hub>>,
    admin: AdminToken,
    ApiJson(request): ApiJson<CreateToken>,
) -> ApiResult {
    create_token(&hub, &admin, request, tokens::SCIM).await
}

async fn revoke_scim_token(State(hub): State<Arc<Hub>>, admin: AdminToken, Path(id): Path<String>) -> ApiResult {
    revoke_token(&hub, &admin, &id, tokens::SCIM).await
}

async fn rotate_scim_token(
    State(hub): State<Arc<Hub>>,
    admin: AdminToken,
    Path(id): Path<String>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<RotateToken>,
) -> ApiResult {
    rotate_token(&hub, &admin, &id, request, tokens::SCIM).await
}

async fn list_admin_tokens(State(hub): State<Arc<Hub>>, _: AdminToken) -> ApiResult {
    list_tokens(&hub, tokens::ADMIN).await
}

async fn create_admin_token(
    State(hub): State<Arc<Hub>>,
    admin: AdminToken,
    ApiJson(request): ApiJson<CreateToken>,
) -> ApiResult {
    create_token(&hub, &admin, request, tokens::ADMIN).await
}

async fn revoke_admin_token(State(hub): State<Arc<Hub>>, admin: AdminToken, Path(id): Path<String>) -> ApiResult {
    revoke_token(&hub, &admin, &id, tokens::ADMIN).await
}

async fn rotate_admin_token(
    State(hub): State<Arc<Hub>>,
    admin: AdminToken,
    Path(id): Path<String>,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<RotateToken>,
) -> ApiResult {
    rotate_token(&hub, &admin, &id, request, tokens::ADMIN).await
}

async fn provisioning_status(
    State(hub): State<Arc<Hub>>,
    _: AdminToken,
    ApiQuery(q): ApiQuery<ProvisioningFilter>,
) -> ApiResult {
    let items = hub.store.list_provisioning(q.connector.as_deref()).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

/// Starts a provisioning pass now instead of at the next interval.
async fn provisioning_sync(State(hub): State<Arc<Hub>>, token: AdminToken) -> ApiResult {
    // A pass changes nothing by itself; its changes are recorded as they are made.
    hub.audit.note(&token.actor(), "provisioning.sync", None, Outcome::Success, String::new()).await;
    // One full pass, answered when it is done, so the caller reads fresh status right after.
    let next_retry_at = hub.provisioning.run_once().await;
    let connectors = hub.provisioning.connector_names().await;
    json(StatusCode::OK, &SyncAnswer { connectors, next_retry_at })
}

async fn audit_log(State(hub): State<Arc<Hub>>, _: AdminToken, ApiQuery(q): ApiQuery<AuditFilter>) -> ApiResult {
    let items = hub.store.query(&q.query()?).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

/// The upstream IdP the hub trusts, as it trusts it now (the last good metadata copy): what
/// `crossfed check` compares with the IdP's own metadata.
async fn identity_source(State(hub): State<Arc<Hub>>, _: AdminToken) -> ApiResult {
    match identity_source_view(&hub) {
        Some(view) => json(StatusCode::OK, &view),
        None => {
            Err(ApiError::not_found("this hub signs people in with its built-in directory; it has no identity source"))
        }
    }
}

/// Trusts the IdP metadata in the body from now on (kept in the store for every instance).
async fn upload_identity_source_metadata(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    XmlBody(body): XmlBody,
) -> ApiResult {
    let Some(metadata) = hub.idp_metadata() else {
        return Err(ApiError::not_found(
            "this hub signs people in with its built-in directory; add [identity_source] to its configuration first",
        ));
    };
    metadata.upload(&body, &token.actor()).await.map_err(|e| ApiError::bad_request(e.to_string()))?;
    match identity_source_view(&hub) {
        Some(view) => json(StatusCode::OK, &view),
        None => Err(ApiError::internal("the identity source vanished")),
    }
}
