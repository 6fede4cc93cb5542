//! `/api/v1/applications`: applications from the catalog templates, their assignments, and a
//! preview of what an application would receive for a user. Applications the configuration
//! file declares are read-only here (the file is applied again at every start); assignments may
//! be added to them. The changes themselves are [`crate::apps::changes`]'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use crossfed_store::PrincipalKind;
use serde_json::Value;

use super::auth::AdminToken;
use super::body::{ApiJson, ApiResult, json};
use crate::apps::spec::{ApplicationSpec, spec_from_json};
use crate::presenter::{application_view as view, application_views as views};
use crate::state::Hub;
use crate::views::{Listing, PreviewRequest};
use crate::web::error::ApiError;

/// The body of a create or replace: the application's settings, and its ID for a create.
fn read_spec(body: Value, path_id: Option<&str>) -> Result<(String, ApplicationSpec), ApiError> {
    Ok(spec_from_json(body, path_id)?)
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, _: AdminToken) -> ApiResult {
    let items = views(&hub).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

pub(super) async fn get(State(hub): State<Arc<Hub>>, _: AdminToken, Path(id): Path<String>) -> ApiResult {
    let (_, entry) = hub.apps().entry(&id).await?;
    json(StatusCode::OK, &view(&hub, &id, &entry))
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, token: AdminToken, ApiJson(body): ApiJson<Value>) -> ApiResult {
    let (id, spec) = read_spec(body, None)?;
    let entry = hub.apps().create(&token.actor(), &id, &spec).await?;
    json(StatusCode::CREATED, &view(&hub, &id, &entry))
}

pub(super) async fn replace(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult {
    let (_, spec) = read_spec(body, Some(&id))?;
    let entry = hub.apps().replace(&token.actor(), &id, spec).await?;
    json(StatusCode::OK, &view(&hub, &id, &entry))
}

pub(super) async fn delete(State(hub): State<Arc<Hub>>, token: AdminToken, Path(id): Path<String>) -> ApiResult {
    hub.apps().delete(&token.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `users` or `groups` in the URL.
fn principal_kind(segment: &str) -> Result<PrincipalKind, ApiError> {
    match segment {
        "users" => Ok(PrincipalKind::User),
        "groups" => Ok(PrincipalKind::Group),
        other => Err(ApiError::not_found(format!("assignments are to users or groups, not {other:?}"))),
    }
}

pub(super) async fn assign(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path((id, kind, principal)): Path<(String, String, String)>,
) -> ApiResult {
    assignment_answer(&hub, &token, &id, &kind, &principal, true).await
}

pub(super) async fn unassign(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path((id, kind, principal)): Path<(String, String, String)>,
) -> ApiResult {
    assignment_answer(&hub, &token, &id, &kind, &principal, false).await
}

/// The API's side of an assignment change: 201 when one was added, 200 otherwise, with the
/// application as it is now.
async fn assignment_answer(
    hub: &Hub,
    token: &AdminToken,
    id: &str,
    kind: &str,
    principal: &str,
    add: bool,
) -> ApiResult {
    let kind = principal_kind(kind)?;
    let (changed_anything, entry) = hub.apps().change_assignment(&token.actor(), id, kind, principal, add).await?;
    let status = if add && changed_anything { StatusCode::CREATED } else { StatusCode::OK };
    json(status, &view(hub, id, &entry))
}

pub(super) async fn preview(
    State(hub): State<Arc<Hub>>,
    _: AdminToken,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> ApiResult {
    json(StatusCode::OK, &hub.apps().preview(&id, &request.user).await?)
}
