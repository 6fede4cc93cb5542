//! The admin API's OpenAPI 3.1 document, built from one table of operations so that it lists
//! exactly the routes of [`super::routes`] (a test compares them).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::Hub;

/// Method, path, summary, request schema, success status.
pub const OPERATIONS: &[(&str, &str, &str, Option<&str>, u16)] = &[
    ("get", "/api/v1/users", "List users (offset, limit)", None, 200),
    ("post", "/api/v1/users", "Create a user", Some("CreateUser"), 201),
    ("get", "/api/v1/users/{id}", "Read a user by ID or user name", None, 200),
    ("patch", "/api/v1/users/{id}", "Change the fields given", Some("UpdateUser"), 200),
    ("delete", "/api/v1/users/{id}", "Delete a user", None, 204),
    ("get", "/api/v1/groups", "List groups (offset, limit)", None, 200),
    ("post", "/api/v1/groups", "Create a group", Some("CreateGroup"), 201),
    ("get", "/api/v1/groups/{id}", "Read a group by ID or name", None, 200),
    ("delete", "/api/v1/groups/{id}", "Delete a group", None, 204),
    ("put", "/api/v1/groups/{id}/members/{user}", "Add a member", None, 200),
    ("delete", "/api/v1/groups/{id}/members/{user}", "Remove a member", None, 200),
    ("get", "/api/v1/applications", "List applications and their assignments", None, 200),
    ("post", "/api/v1/applications", "Create an application from a catalog template", Some("Application"), 201),
    ("get", "/api/v1/applications/{id}", "Read an application", None, 200),
    ("put", "/api/v1/applications/{id}", "Replace an application's settings", Some("Application"), 200),
    ("delete", "/api/v1/applications/{id}", "Delete an application and its assignments", None, 204),
    (
        "put",
        "/api/v1/applications/{id}/assignments/{kind}/{principal}",
        "Assign a user or group (kind: users, groups)",
        None,
        201,
    ),
    ("delete", "/api/v1/applications/{id}/assignments/{kind}/{principal}", "Remove an assignment", None, 200),
    (
        "post",
        "/api/v1/applications/{id}/preview",
        "What the application would receive for a user",
        Some("PreviewRequest"),
        200,
    ),
    ("get", "/api/v1/admin-tokens", "List admin tokens (never their values)", None, 200),
    ("post", "/api/v1/admin-tokens", "Create an admin token; its value is shown once", Some("CreateToken"), 201),
    ("delete", "/api/v1/admin-tokens/{id}", "Revoke an admin token (not the one making the request)", None, 200),
    (
        "post",
        "/api/v1/admin-tokens/{id}/rotate",
        "Replace an admin token: a new one of the same name (shown once); the old one works until the overlap ends",
        Some("RotateToken"),
        200,
    ),
    ("get", "/api/v1/scim-tokens", "List SCIM tokens (never their values)", None, 200),
    ("post", "/api/v1/scim-tokens", "Create a SCIM token; its value is shown once", Some("CreateToken"), 201),
    ("delete", "/api/v1/scim-tokens/{id}", "Revoke a SCIM token", None, 200),
    (
        "post",
        "/api/v1/scim-tokens/{id}/rotate",
        "Replace a SCIM token: a new one of the same name (shown once); the old one works until the overlap ends",
        Some("RotateToken"),
        200,
    ),
    ("get", "/api/v1/provisioning", "Provisioning status per connector and user (connector)", None, 200),
    ("post", "/api/v1/provisioning/sync", "Run every provisioning connector once, now", None, 200),
    ("get", "/api/v1/identity-source", "The upstream IdP as the hub trusts it: entity ID, certificates", None, 200),
    (
        "put",
        "/api/v1/identity-source/metadata",
        "Trust this IdP metadata (XML body) from now on, at every instance",
        None,
        200,
    ),
    (
        "get",
        "/api/v1/audit",
        "Audit log, newest first (actor, action or family.*, source, since, until, limit)",
        None,
        200,
    ),
];

/// Every `error` code an answer may carry ([`crate::web::error::ApiError`]).
const ERROR_CODES: [&str; 19] = [
    "invalid_request",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "conflict",
    "stale",
    "managed_by_config",
    "broken",
    "token_revoked",
    "token_expired",
    "token_replaced",
    "body_too_large",
    "uri_too_long",
    "unsupported_media_type",
    "headers_too_large",
    "internal",
    "unavailable",
    "audit_unavailable",
    "insufficient_storage",
];

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let text_map = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({
        "CreateUser": {"type": "object", "required": ["user_name"], "additionalProperties": false, "properties": {
            "user_name": string, "email": string, "given_name": string, "family_name": string,
            "display_name": string, "external_id": string, "active": {"type": "boolean"},
            "attributes": text_map, "password": string}},
        "UpdateUser": {"type": "object", "additionalProperties": false, "properties": {
            "user_name": string, "email": string, "given_name": string, "family_name": string,
            "display_name": string, "active": {"type": "boolean"}, "attributes": text_map, "password": string}},
        "CreateGroup": {"type": "object", "required": ["display_name"], "additionalProperties": false, "properties": {
            "display_name": string, "external_id": string, "members": {"type": "array", "items": string}}},
        "CreateToken": {"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
            "name": string, "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
        "RotateToken": {"type": "object", "additionalProperties": false,
            "description": "Both optional; the body itself may be left out. The old token's expiry becomes at most now + overlap_hours (never later than it was); the new token expires after expires_in_days, or after the old token's lifetime (never, if it had no expiry)",
            "properties": {
                "overlap_hours": {"type": "integer", "minimum": 0, "maximum": 720, "default": 24},
                "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
        "Application": {"type": "object", "required": ["name"], "additionalProperties": false,
            "description": "A name and exactly one of amazon_connect, aws_account, custom (the [[applications]] entry of the configuration file, as JSON); id is required on create",
            "properties": {
                "id": string, "name": string,
                "amazon_connect": {"type": "object", "required": ["account_id", "region", "instance_id", "role_name", "provider_name"], "properties": {
                    "account_id": string, "region": string, "instance_id": string, "role_name": string, "provider_name": string,
                    "signin_url": string, "console_url": string, "destination": string, "session_duration": {"type": "integer"},
                    "provisioning": {"type": "object", "required": ["access_key_id"], "properties": {
                        "api_url": string, "access_key_id": string, "secret_access_key": string,
                        "security_profiles": {"type": "array", "items": string}, "routing_profile": string}}}},
                "aws_account": {"type": "object", "required": ["account_id", "roles"], "properties": {
                    "account_id": string, "signin_url": string, "relay_state": string, "session_duration": {"type": "integer"},
                    "roles": {"type": "array", "items": {"type": "object", "required": ["role_name", "provider_name"],
                        "properties": {"role_name": string, "provider_name": string}}}}},
                "custom": {"type": "object", "properties": {
                    "acs_url": string, "audience": string, "metadata_xml": string, "require_signed_requests": {"type": "boolean"},
                    "name_id_format": string, "name_id": string, "relay_state": string,
                    "attributes": {"type": "array", "items": {"type": "object", "required": ["name", "value"],
                        "properties": {"name": string, "value": string, "required": {"type": "boolean"}}}}}}}},
        "PreviewRequest": {"type": "object", "required": ["user"], "additionalProperties": false, "properties": {"user": string}},
        "Error": {"type": "object", "required": ["error", "message"], "additionalProperties": false, "properties": {
            "error": {"type": "string", "enum": ERROR_CODES},
            "message": {"type": "string", "description": "What was wrong (the field or parameter, what it takes, what it was) and how to fix it"}}},
    })
}

pub(crate) fn build(base_url: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, request, status) in OPERATIONS {
        let mut operation = json!({
            "summary": summary,
            "security": [{"bearer": []}],
            "responses": {
                status.to_string(): {"description": "Success"},
                "4XX": {"description": "What was wrong", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        let parameters: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if let Some(fields) = operation.as_object_mut() {
            if !parameters.is_empty() {
                fields.insert("parameters".to_string(), Value::Array(parameters));
            }
            if let Some(schema) = request {
                // A rotation's body may be left out (its fields are all optional); others are read
                // by ApiJson, which needs one.
                let required = *schema != "RotateToken";
                let body = json!({"required": required, "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
                fields.insert("requestBody".to_string(), body);
            }
        }
        if let Value::Object(methods) = paths.entry(path.to_string()).or_insert_with(|| json!({})) {
            methods.insert(method.to_string(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "crossfed hub admin API", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                "description": "An admin token; the first is written to DATA_DIR/admin-token at first start"}},
            "schemas": schemas(),
        },
    })
}

pub(crate) async fn document(State(hub): State<Arc<Hub>>) -> Json<Value> {
    Json(build(&hub.base_url))
}
