//! `/api/v1/applications`: applications from the catalog templates, their assignments, and a
//! preview of what an application would receive for a user. Applications the configuration
//! file declares are read-only here (the file is applied again at every start); assignments may
//! be added to them.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use crossfed_store::{ApplicationStore, Assignment, ManagedBy, Outcome, PrincipalKind};
use serde_json::Value;

use super::types::{ApplicationView, AssignmentView, Listing, Preview, PreviewAttribute, PreviewRequest};
use super::{ApiError, ApiResult, actor, authorize, find_group, find_user, json, parse};
use crate::applications::{ApplicationSpec, Catalog, CatalogEntry, check_unique_sp, stored_application};
use crate::server::{Hub, audit, now};

fn view(hub: &Hub, id: &str, entry: &CatalogEntry) -> ApplicationView {
    let users = entry.assignees.users.iter().cloned().collect();
    let groups = entry.assignees.groups.iter().cloned().collect();
    ApplicationView {
        id: id.to_string(),
        name: entry.app.name.clone(),
        template: entry.stored.template.clone(),
        managed_by: entry.stored.managed_by,
        version: entry.stored.version,
        acs_url: entry.app.acs_url.clone(),
        audience: entry.app.audience.clone(),
        relay_state: entry.app.relay_state.clone(),
        entity_id: hub.app_entity_id(id),
        metadata_url: format!("{}/saml/apps/{id}/metadata", hub.base_url),
        definition: entry.spec.redacted(),
        assignments: entry
            .assignments
            .iter()
            .map(|a| AssignmentView { kind: a.kind, name: a.name.clone(), managed_by: a.managed_by })
            .collect(),
        assigned_users: users,
        assigned_groups: groups,
    }
}

/// The application `id` of a freshly loaded catalog, or a 404.
async fn load_entry(hub: &Hub, id: &str) -> Result<(Arc<Catalog>, CatalogEntry), ApiError> {
    let catalog = hub.applications.reload(&hub.store).await?;
    if let Some(reason) = catalog.broken.get(id) {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "broken",
            message: format!("{reason}; replace it with PUT or delete it"),
        });
    }
    let entry = catalog.get(id).cloned().ok_or_else(|| ApiError::not_found(format!("no application {id:?}")))?;
    Ok((catalog, entry))
}

fn owned_by_config(id: &str) -> ApiError {
    ApiError {
        status: StatusCode::CONFLICT,
        code: "managed_by_config",
        message: format!(
            "application {id} is declared in the hub's configuration file, which is applied at every start; change it there"
        ),
    }
}

/// The body of a create or replace: the application's settings, and its ID for a create.
fn read_spec(body: &Bytes, path_id: Option<&str>) -> Result<(String, ApplicationSpec), ApiError> {
    spec_from_json(parse(body)?, path_id)
}

/// The id and definition in an `[[applications]]` entry given as JSON.
pub(crate) fn spec_from_json(mut value: Value, path_id: Option<&str>) -> Result<(String, ApplicationSpec), ApiError> {
    let Some(fields) = value.as_object_mut() else {
        return Err(ApiError::bad_request("the request body: give a JSON object"));
    };
    let id = match (fields.remove("id"), path_id) {
        (Some(Value::String(id)), None) => id,
        (None, None) | (Some(_), None) => {
            return Err(ApiError::bad_request("id: give the application's id, a string such as \"connect\""));
        }
        (Some(Value::String(id)), Some(path)) if id != path => {
            return Err(ApiError::bad_request(format!("id {id:?} differs from the URL's {path:?}; IDs cannot change")));
        }
        (_, Some(path)) => path.to_string(),
    };
    let spec: ApplicationSpec =
        serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("the application: {e}")))?;
    if spec.custom.as_ref().is_some_and(|c| c.metadata_file.is_some() || c.metadata_url.is_some()) {
        return Err(ApiError::bad_request(
            "custom.metadata_file and custom.metadata_url are for the configuration file; send the document as custom.metadata_xml",
        ));
    }
    Ok((id, spec))
}

/// Compiles `spec` as application `id` (400 naming the problem) and checks its SP is unique (409).
fn check(catalog: &Catalog, id: &str, spec: &ApplicationSpec) -> Result<(), ApiError> {
    let app = spec.compile(id).map_err(ApiError::bad_request)?;
    let others = catalog.entries.iter().map(|(other, e)| (other.as_str(), &e.app));
    check_unique_sp(others, id, &app).map_err(|message| ApiError {
        status: StatusCode::CONFLICT,
        code: "conflict",
        message,
    })
}

/// After a change: every handler sees it at once, and provisioning follows assignments.
async fn changed(hub: &Hub) -> Result<Arc<Catalog>, ApiError> {
    let catalog = hub.applications.reload(&hub.store).await?;
    hub.directory_changed.notify_waiters();
    Ok(catalog)
}

/// Every application as the API shows it, read fresh from the store.
pub(crate) async fn views(hub: &Hub) -> Result<Vec<ApplicationView>, ApiError> {
    let catalog = hub.applications.reload(&hub.store).await?;
    Ok(catalog.entries.iter().map(|(id, e)| view(hub, id, e)).collect())
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> ApiResult {
    authorize(&hub, &headers).await?;
    let items = views(&hub).await?;
    let total = items.len() as i64;
    json(StatusCode::OK, &Listing { items, total })
}

pub(super) async fn get(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    authorize(&hub, &headers).await?;
    let (_, entry) = load_entry(&hub, &id).await?;
    json(StatusCode::OK, &view(&hub, &id, &entry))
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let (id, spec) = read_spec(&body, None)?;
    json(StatusCode::CREATED, &create_spec(&hub, &actor(&token), &id, &spec).await?)
}

/// Adds application `id` (checked first), audited as `actor`.
pub(crate) async fn create_spec(
    hub: &Hub,
    actor: &str,
    id: &str,
    spec: &ApplicationSpec,
) -> Result<ApplicationView, ApiError> {
    let catalog = hub.applications.reload(&hub.store).await?;
    check(&catalog, id, spec)?;
    let record = stored_application(id, spec, ManagedBy::Api).map_err(ApiError::internal)?;
    hub.store.create_application(&record, now()).await?;
    audit(hub, actor, "application.create", Some(id), Outcome::Success, record.template.clone()).await;
    let catalog = changed(hub).await?;
    let entry = catalog.get(id).ok_or_else(|| ApiError::internal(format!("application {id} vanished")))?;
    Ok(view(hub, id, entry))
}

pub(super) async fn replace(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let (_, spec) = read_spec(&body, Some(&id))?;
    json(StatusCode::OK, &replace_spec(&hub, &actor(&token), &id, spec).await?)
}

/// Replaces application `id`'s definition (checked first; secrets left empty keep their stored
/// value). The configuration file's applications are refused.
pub(crate) async fn replace_spec(
    hub: &Hub,
    actor: &str,
    id: &str,
    mut spec: ApplicationSpec,
) -> Result<ApplicationView, ApiError> {
    let catalog = hub.applications.reload(&hub.store).await?;
    // A broken application may be replaced: that is how it is repaired.
    let current = match hub.store.get_application(id).await? {
        Some(current) => current,
        None => return Err(ApiError::not_found(format!("no application {id:?}; create it with POST"))),
    };
    if current.managed_by == ManagedBy::Config {
        return Err(owned_by_config(id));
    }
    if let Some(previous) = catalog.get(id) {
        spec.keep_secrets_of(&previous.spec);
    }
    check(&catalog, id, &spec)?;
    let record = stored_application(id, &spec, ManagedBy::Api).map_err(ApiError::internal)?;
    let record =
        crossfed_store::StoredApplication { version: current.version, created_at: current.created_at, ..record };
    hub.store.update_application(&record, now()).await?;
    audit(hub, actor, "application.update", Some(id), Outcome::Success, record.template.clone()).await;
    let catalog = changed(hub).await?;
    let entry = catalog.get(id).ok_or_else(|| ApiError::internal(format!("application {id} vanished")))?;
    Ok(view(hub, id, entry))
}

pub(super) async fn delete(State(hub): State<Arc<Hub>>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let token = authorize(&hub, &headers).await?;
    let current =
        hub.store.get_application(&id).await?.ok_or_else(|| ApiError::not_found(format!("no application {id:?}")))?;
    if current.managed_by == ManagedBy::Config {
        return Err(owned_by_config(&id));
    }
    hub.store.delete_application(&id).await?;
    audit(&hub, &actor(&token), "application.delete", Some(&id), Outcome::Success, String::new()).await;
    changed(&hub).await?;
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

/// The principal's name as the directory spells it; it must exist.
async fn principal_name(hub: &Hub, kind: PrincipalKind, key: &str) -> Result<String, ApiError> {
    Ok(match kind {
        PrincipalKind::User => find_user(hub, key).await?.user_name,
        PrincipalKind::Group => find_group(hub, key).await?.display_name,
    })
}

/// Assigns (`add`) or unassigns a user or group to application `id` for `actor`, audited; the
/// API and the console both come here. Returns whether anything changed.
pub(crate) async fn change_assignment(
    hub: &Hub,
    actor: &str,
    id: &str,
    kind: PrincipalKind,
    principal: &str,
    add: bool,
) -> Result<bool, ApiError> {
    let (_, entry) = load_entry(hub, id).await?;
    let changed_anything = if add {
        let name = principal_name(hub, kind, principal).await?;
        let assignment = Assignment {
            application_id: id.to_string(),
            kind,
            name: name.clone(),
            managed_by: ManagedBy::Api,
            created_at: now(),
        };
        let added = hub.store.assign(&assignment).await?;
        if added {
            let detail = format!("{} {name}", kind.as_str());
            audit(hub, actor, "application.assign", Some(id), Outcome::Success, detail).await;
        }
        added
    } else {
        // The principal may be gone from the directory already; match the assignment by name.
        let Some(existing) =
            entry.assignments.iter().find(|a| a.kind == kind && a.name.eq_ignore_ascii_case(principal))
        else {
            return Err(ApiError::not_found(format!(
                "{} {principal:?} is not assigned to application {id}",
                kind.as_str()
            )));
        };
        if existing.managed_by == ManagedBy::Config {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                code: "managed_by_config",
                message: format!(
                    "the assignment of {} {} to {id} is declared in the hub's configuration file; remove it there",
                    kind.as_str(),
                    existing.name
                ),
            });
        }
        hub.store.unassign(id, kind, &existing.name).await?;
        let detail = format!("{} {}", kind.as_str(), existing.name);
        audit(hub, actor, "application.unassign", Some(id), Outcome::Success, detail).await;
        true
    };
    changed(hub).await?;
    Ok(changed_anything)
}

pub(super) async fn assign(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((id, kind, principal)): Path<(String, String, String)>,
) -> ApiResult {
    assignment_answer(&hub, &headers, &id, &kind, &principal, true).await
}

pub(super) async fn unassign(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((id, kind, principal)): Path<(String, String, String)>,
) -> ApiResult {
    assignment_answer(&hub, &headers, &id, &kind, &principal, false).await
}

/// The API's side of an assignment change: 201 when one was added, 200 otherwise, with the
/// application as it is now.
async fn assignment_answer(
    hub: &Hub,
    headers: &HeaderMap,
    id: &str,
    kind: &str,
    principal: &str,
    add: bool,
) -> ApiResult {
    let token = authorize(hub, headers).await?;
    let kind = principal_kind(kind)?;
    let changed_anything = change_assignment(hub, &actor(&token), id, kind, principal, add).await?;
    let (_, entry) = load_entry(hub, id).await?;
    let status = if add && changed_anything { StatusCode::CREATED } else { StatusCode::OK };
    json(status, &view(hub, id, &entry))
}

/// What application `id` would receive for the user named (or with the ID) `user_key`: NameID
/// and attributes, or the mapping error a launch would show. Nothing is signed or sent.
pub(crate) async fn preview_for(hub: &Hub, id: &str, user_key: &str) -> Result<Preview, ApiError> {
    let (_, entry) = load_entry(hub, id).await?;
    preview_of(hub, &entry.app, &entry.assignees, user_key).await
}

/// What `app` (stored or a draft) would send the user named (or with the ID) `user_key`.
pub(crate) async fn preview_of(
    hub: &Hub,
    app: &crate::catalog::Application,
    assignees: &crate::server::Assignees,
    user_key: &str,
) -> Result<Preview, ApiError> {
    let user = find_user(hub, user_key).await?;
    let values = crate::server::user_values(hub, &user).await.map_err(|e| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: e,
    })?;
    let assigned = assignees.includes(&user.user_name, &values.groups);
    let (name_id, name_id_format, attributes, error) = match app.assertion_contents(&values) {
        Ok((name_id, attributes)) => (
            Some(name_id.value),
            name_id.format,
            attributes.into_iter().map(|a| PreviewAttribute { name: a.name, values: a.values }).collect(),
            None,
        ),
        Err(e) => (None, None, Vec::new(), Some(e.to_string())),
    };
    Ok(Preview {
        user: user.user_name.clone(),
        assigned,
        active: user.active,
        acs_url: app.acs_url.clone(),
        audience: app.audience.clone(),
        relay_state: app.relay_state.clone(),
        name_id,
        name_id_format,
        attributes,
        error,
    })
}

pub(super) async fn preview(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    authorize(&hub, &headers).await?;
    let request: PreviewRequest = parse(&body)?;
    json(StatusCode::OK, &preview_for(&hub, &id, &request.user).await?)
}
