//! `/api/v1/keys`: each role's keys and rollover state, who trusts them, the single steps, and
//! the coordinated rollover `crossfed keys rollover` drives. The handlers only translate: the
//! rollover service decides and audits.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AdminToken;
use super::body::{ApiResult, json};
use crate::keys::{KeyError, KeyRole};
use crate::rollover::{Rollover, RolloverError};
use crate::state::Hub;
use crate::web::error::ApiError;

impl From<RolloverError> for ApiError {
    fn from(e: RolloverError) -> Self {
        let (status, code) = match &e {
            RolloverError::Key(KeyError::UnknownRole(_)) => (StatusCode::BAD_REQUEST, "invalid_request"),
            RolloverError::Key(
                KeyError::AlreadyStaged { .. }
                | KeyError::PreviousKept { .. }
                | KeyError::NothingStaged { .. }
                | KeyError::NothingToRetire { .. }
                | KeyError::Moved { .. },
            ) => (StatusCode::CONFLICT, "key_state"),
            RolloverError::Key(KeyError::BetweenRenames(_)) => (StatusCode::SERVICE_UNAVAILABLE, "key_busy"),
            RolloverError::PeersNotReady(_) => (StatusCode::CONFLICT, "key_peer_not_ready"),
            RolloverError::TooSoon { .. } => (StatusCode::CONFLICT, "key_too_soon"),
            RolloverError::NoOwnKey(_) => (StatusCode::NOT_FOUND, "not_found"),
            RolloverError::Unrecorded(_) => (StatusCode::SERVICE_UNAVAILABLE, "audit_unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError { status, code, message: e.to_string() }
    }
}

fn role(text: &str) -> Result<KeyRole, ApiError> {
    KeyRole::parse(text).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `GET /api/v1/keys`: every role loaded, with its certificates and stage.
pub(super) async fn status(State(hub): State<Arc<Hub>>, _: AdminToken) -> ApiResult {
    json(StatusCode::OK, &serde_json::json!({ "roles": Rollover { hub: &hub }.status().await }))
}

/// `GET /api/v1/keys/{role}/peers`: who trusts the role's current and next key, asked now.
pub(super) async fn peers(State(hub): State<Arc<Hub>>, _: AdminToken, Path(name): Path<String>) -> ApiResult {
    let role = role(&name)?;
    let rollover = Rollover { hub: &hub };
    let peers = rollover.peers(&role).await?;
    let status = rollover.role_status(&*rollover.ring(&role).await?);
    json(StatusCode::OK, &crate::rollover::RoleTrust { role: status, peers })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StepRequest {
    /// Activate although a peer the hub asked does not trust the next key.
    #[serde(default)]
    force: bool,
    /// For `rollover`: only read and say what would be done.
    #[serde(default)]
    dry_run: bool,
    /// For `rollover`: start another although the role rolled over less than a day ago.
    #[serde(default)]
    again: bool,
}

/// `POST /api/v1/keys/{role}/{stage|activate|retire|rollover}`.
pub(super) async fn step(
    State(hub): State<Arc<Hub>>,
    token: AdminToken,
    Path((name, step)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> ApiResult {
    let role = role(&name)?;
    // The body is optional: an empty one asks for the defaults.
    let request: StepRequest = match body.is_empty() {
        true => StepRequest::default(),
        false => serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body: expected {{\"force\": bool, \"dry_run\": bool, \"again\": bool}}: {e}"
            ))
        })?,
    };
    let (rollover, actor) = (Rollover { hub: &hub }, token.actor());
    match step.as_str() {
        "stage" => json(StatusCode::OK, &rollover.stage(&role, &actor).await?),
        "activate" => json(StatusCode::OK, &rollover.activate(&role, &actor, request.force).await?),
        "retire" => json(StatusCode::OK, &rollover.retire(&role, &actor).await?),
        "rollover" => json(StatusCode::OK, &rollover.advance(&role, &actor, request.dry_run, request.again).await?),
        other => Err(ApiError::not_found(format!("no key step {other:?}: stage, activate, retire or rollover"))),
    }
}
