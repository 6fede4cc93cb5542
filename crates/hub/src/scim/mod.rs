//! The SCIM 2.0 server at `/scim/v2` (RFC 7644), as Microsoft Entra ID and IAM Identity Center's
//! provisioning clients use it: Users and Groups with filters, paging, PATCH, ETags, and the
//! discovery documents. Requests need a bearer token of purpose `scim` ([`ScimToken`]);
//! discovery documents are public, as they hold nothing secret. Every change goes through the
//! directory service, audited under the token's name, and wakes outbound provisioning. The
//! SCIM representations of users and groups are [`crate::directory::scim`]'s; bodies are read by
//! [`body::ScimJson`]; every error, those of requests no handler answers included, is the SCIM
//! error body ([`crate::web::scim_error`], [`crate::web::refusal`]).

mod body;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use crossfed_scim::{
    GROUP, ListQuery, ResourceType, ScimError, ScimType, ServiceProviderFeatures, USER, apply_patch,
    list_response_json, parse_list_query, parse_patch, project,
};
use crossfed_store::{ApiToken, Group, GroupStore, NewUser, Page, User, UserStore};
use serde_json::Value;

use body::ScimJson;

use crate::directory::scim::{
    UserFields, etag, group_condition, group_from_scim, group_to_scim, user_condition, user_from_scim, user_to_scim,
};
use crate::state::Hub;
use crate::tokens;
use crate::web::scim_error::{Failure, scim_body};

/// The most resources one list answer holds (advertised as `filter.maxResults`).
const MAX_RESULTS: i64 = 200;
/// How many users or groups an in-memory filter looks through at most.
const SCAN_LIMIT: i64 = 50_000;

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/scim/v2/ServiceProviderConfig", get(service_provider_config))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{name}", get(resource_type))
        .route("/scim/v2/Users", get(list_users).post(create_user))
        .route("/scim/v2/Users/.search", post(search_users))
        .route("/scim/v2/Users/{id}", get(get_user).put(replace_user).patch(patch_user).delete(delete_user))
        .route("/scim/v2/Groups", get(list_groups).post(create_group))
        .route("/scim/v2/Groups/.search", post(search_groups))
        .route("/scim/v2/Groups/{id}", get(get_group).put(replace_group).patch(patch_group).delete(delete_group))
        .route("/scim/v2/.search", post(search_everything))
        .route("/scim/v2/{*rest}", axum::routing::any(no_such_endpoint))
}

/// Counts each operation on users and groups by its answer's status, refusals included: a
/// route layer on [`routes`] (the discovery documents are not counted).
pub async fn count_operation(
    State(hub): State<Arc<Hub>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_string());
    let operation = route.and_then(|route| operation_of(request.method(), &route));
    let response = next.run(request).await;
    if let Some((resource, operation)) = operation {
        hub.metrics.scim_operation(resource, operation, response.status().as_u16());
    }
    response
}

/// The resource type and operation of a request to `route`.
fn operation_of(method: &axum::http::Method, route: &str) -> Option<(&'static str, &'static str)> {
    use axum::http::Method;
    let resource = match route.strip_prefix("/scim/v2/")?.split('/').next()? {
        "Users" => "User",
        "Groups" => "Group",
        ".search" => "all",
        _ => return None,
    };
    let one = route.ends_with("/{id}");
    let operation = match *method {
        _ if route.ends_with(".search") => "search",
        Method::GET if one => "get",
        Method::GET => "list",
        Method::POST => "create",
        Method::PUT => "replace",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => return None,
    };
    Some((resource, operation))
}

/// `POST /.search` over both resource types (RFC 7644 §3.4.3): users first, then groups, paged
/// as one list. A filter naming attributes only one type has matches nothing of the other.
async fn search_everything(State(hub): State<Arc<Hub>>, _: ScimToken, ScimJson(body): ScimJson) -> ScimResult {
    let query = parse_list_query(&search_params(&body)?)?;
    let page = page_of(&query);
    let valid_for = |rt: &ResourceType| query.filter.as_ref().is_none_or(|f| f.validate(rt).is_ok());
    if let Some(filter) = &query.filter
        && !valid_for(&USER)
        && !valid_for(&GROUP)
    {
        filter.validate(&USER)?;
    }
    let (mut items, users_total) =
        if valid_for(&USER) { query_users(&hub, &query, page).await? } else { (Vec::new(), 0) };
    let mut total = users_total;
    if valid_for(&GROUP) {
        let rest = Page { offset: (page.offset - users_total).max(0), limit: (page.limit - items.len() as i64).max(0) };
        let (groups, groups_total) = query_groups(&hub, &query, rest).await?;
        items.extend(groups);
        total += groups_total;
    }
    // Each resource is projected by its own type's schema.
    let items = items
        .iter()
        .map(|r| {
            let rt =
                if r.pointer("/meta/resourceType").and_then(Value::as_str) == Some("Group") { &GROUP } else { &USER };
            project(r, rt, &query.attributes, &query.excluded_attributes)
        })
        .collect();
    Ok(scim_body(StatusCode::OK, &list_response_json(items, total, query.start_index.max(1))))
}

async fn no_such_endpoint(uri: axum::http::Uri) -> Failure {
    Failure(ScimError::not_found(format!(
        "there is no SCIM endpoint at {}; the resources are /Users and /Groups",
        uri.path()
    )))
}

type ScimResult = Result<Response, Failure>;

/// A resource answer, with its ETag (when the answer shows its `meta`) and, for creations, its
/// Location.
fn resource(status: StatusCode, value: &Value, version: i64) -> Response {
    let mut response = scim_body(status, value);
    if value.get("meta").is_some()
        && let Ok(tag) = HeaderValue::from_str(&etag(version))
    {
        response.headers_mut().insert(header::ETAG, tag);
    }
    if status == StatusCode::CREATED
        && let Some(location) = value.pointer("/meta/location").and_then(Value::as_str)
        && let Ok(location) = HeaderValue::from_str(location)
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn base(hub: &Hub) -> String {
    format!("{}/scim/v2", hub.base_url)
}

/// The live SCIM token of the request: every handler that reads or changes the directory takes
/// one, so none runs without it.
struct ScimToken(ApiToken);

impl ScimToken {
    /// The audit log's actor for changes made with this token.
    fn actor(&self) -> String {
        format!("scim:{}", self.0.name)
    }
}

impl FromRequestParts<Arc<Hub>> for ScimToken {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, Failure> {
        let token = tokens::authenticate(&hub.store, &parts.headers, tokens::SCIM, hub.clock.unix()).await;
        token.map(ScimToken).map_err(|e| match e {
            tokens::TokenRejection::Store(inner) => Failure::from(inner),
            other => Failure(ScimError::unauthorized(other.to_string())),
        })
    }
}

/// Refuses a change when `If-Match` names another version than the stored one.
fn check_if_match(headers: &HeaderMap, version: i64) -> Result<(), Failure> {
    let Some(wanted) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else { return Ok(()) };
    let current = etag(version);
    let strong = current.trim_start_matches("W/");
    let matches =
        wanted.split(',').map(str::trim).any(|t| t == "*" || t == current || t.trim_start_matches("W/") == strong);
    if matches {
        Ok(())
    } else {
        Err(Failure(ScimError::precondition_failed(format!(
            "the resource is at version {current}, not {wanted}; read it again and retry"
        ))))
    }
}

/// `304 Not Modified` when `If-None-Match` names the current version.
fn not_modified(headers: &HeaderMap, version: i64) -> bool {
    let current = etag(version);
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').map(str::trim).any(|t| t == "*" || t == current))
}

fn features() -> ServiceProviderFeatures {
    ServiceProviderFeatures {
        patch: true,
        bulk: false,
        filter_max_results: MAX_RESULTS as u32,
        change_password: true,
        sort: false,
        etag: true,
        documentation_uri: None,
    }
}

async fn service_provider_config(State(hub): State<Arc<Hub>>) -> Response {
    scim_body(StatusCode::OK, &crossfed_scim::service_provider_config_json(&features(), &base(&hub)))
}

async fn schemas(State(hub): State<Arc<Hub>>) -> Response {
    scim_body(StatusCode::OK, &crossfed_scim::schemas_list_json(&base(&hub)))
}

async fn schema(State(hub): State<Arc<Hub>>, Path(id): Path<String>) -> ScimResult {
    let schema = crossfed_scim::find_schema(&id)
        .ok_or_else(|| ScimError::not_found(format!("no schema {id:?}; GET /Schemas lists them")))?;
    Ok(scim_body(StatusCode::OK, &crossfed_scim::schema_json(schema, &base(&hub))))
}

async fn resource_types(State(hub): State<Arc<Hub>>) -> Response {
    scim_body(StatusCode::OK, &crossfed_scim::resource_types_list_json(&base(&hub)))
}

async fn resource_type(State(hub): State<Arc<Hub>>, Path(name): Path<String>) -> ScimResult {
    let rt = [&USER, &GROUP]
        .into_iter()
        .find(|rt| rt.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ScimError::not_found(format!("no resource type {name:?}; they are User and Group")))?;
    Ok(scim_body(StatusCode::OK, &crossfed_scim::resource_type_json(rt, &base(&hub))))
}

fn page_of(query: &ListQuery) -> Page {
    Page { offset: (query.start_index - 1).max(0), limit: query.count.unwrap_or(MAX_RESULTS).clamp(0, MAX_RESULTS) }
}

/// The window `page` of `all` (for filters evaluated in memory).
fn window(all: Vec<Value>, page: Page) -> Vec<Value> {
    all.into_iter().skip(page.offset as usize).take(page.limit as usize).collect()
}

/// A list answer for one resource type: its matching resources, projected.
async fn listing(hub: &Hub, rt: &'static ResourceType, query: &ListQuery) -> ScimResult {
    let (items, total) = if std::ptr::eq(rt, &GROUP) {
        query_groups(hub, query, page_of(query)).await?
    } else {
        query_users(hub, query, page_of(query)).await?
    };
    Ok(list_answer(rt, query, items, total))
}

/// One resource, projected as asked, or `304` when the client holds this version.
fn single(headers: &HeaderMap, rt: &ResourceType, query: &ListQuery, json: &Value, version: i64) -> Response {
    if not_modified(headers, version) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    resource(StatusCode::OK, &project(json, rt, &query.attributes, &query.excluded_attributes), version)
}

fn list_answer(rt: &ResourceType, query: &ListQuery, items: Vec<Value>, total: i64) -> Response {
    let items = items.iter().map(|r| project(r, rt, &query.attributes, &query.excluded_attributes)).collect();
    scim_body(StatusCode::OK, &list_response_json(items, total, query.start_index.max(1)))
}

async fn user_json(hub: &Hub, user: &User) -> Result<Value, Failure> {
    let groups = hub.store.groups_of(&user.id).await?;
    Ok(user_to_scim(user, &groups, &base(hub)))
}

async fn find_user(hub: &Hub, id: &str) -> Result<User, Failure> {
    hub.store.get_user(id).await?.ok_or_else(|| Failure(ScimError::not_found(format!("no User with id {id:?}"))))
}

/// Users matching the query's filter within `page`, and how many match in all.
async fn query_users(hub: &Hub, query: &ListQuery, page: Page) -> Result<(Vec<Value>, i64), Failure> {
    let Some(filter) = &query.filter else {
        let (users, total) = hub.store.list_users(page).await?;
        let mut items = Vec::with_capacity(users.len());
        for user in &users {
            items.push(user_json(hub, user).await?);
        }
        return Ok((items, total));
    };
    filter.validate(&USER)?;
    if let Some(condition) = user_condition(filter) {
        let (users, total) = hub.store.search_users(&condition, page).await?;
        let mut items = Vec::with_capacity(users.len());
        for user in &users {
            items.push(user_json(hub, user).await?);
        }
        return Ok((items, total));
    }
    // Attributes without a column (emails, addresses…): evaluate on each representation.
    let mut matching = Vec::new();
    let mut offset = 0;
    loop {
        let (users, total) = hub.store.list_users(Page { offset, limit: 1000 }).await?;
        for user in &users {
            let json = user_json(hub, user).await?;
            if filter.matches(&json, &USER) {
                matching.push(json);
            }
        }
        offset += users.len() as i64;
        if users.is_empty() || offset >= total {
            break;
        }
        if offset >= SCAN_LIMIT {
            return Err(Failure(ScimError::too_many(format!(
                "this filter is evaluated user by user and the directory has more than {SCAN_LIMIT}; \
                 filter on userName, externalId, displayName, name or active instead"
            ))));
        }
    }
    let total = matching.len() as i64;
    Ok((window(matching, page), total))
}

async fn list_users(
    State(hub): State<Arc<Hub>>,
    _: ScimToken,
    Query(params): Query<Vec<(String, String)>>,
) -> ScimResult {
    listing(&hub, &USER, &parse_list_query(&params)?).await
}

/// The parameters of a `POST .search` body, as query parameters.
fn search_params(value: &Value) -> Result<Vec<(String, String)>, Failure> {
    let object = value.as_object().ok_or_else(|| {
        Failure(ScimError::bad_request(ScimType::InvalidSyntax, "the search request must be a JSON object"))
    })?;
    let mut params = Vec::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") || value.is_null() {
            continue;
        }
        params.push((key.clone(), search_param(key, value)?));
    }
    Ok(params)
}

/// One parameter of a search request as query text: a string, a number or a boolean as written,
/// an array of strings joined with commas; anything else is refused, naming the parameter.
fn search_param(key: &str, value: &Value) -> Result<String, Failure> {
    let refused = || {
        Failure(ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("the search request's \"{key}\" is {value}; give a string, a number or a list of strings"),
        ))
    };
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) => {
            let texts = items.iter().map(Value::as_str).collect::<Option<Vec<_>>>().ok_or_else(refused)?;
            Ok(texts.join(","))
        }
        Value::Null | Value::Object(_) => Err(refused()),
    }
}

async fn search_users(State(hub): State<Arc<Hub>>, _: ScimToken, ScimJson(body): ScimJson) -> ScimResult {
    listing(&hub, &USER, &parse_list_query(&search_params(&body)?)?).await
}

async fn get_user(
    State(hub): State<Arc<Hub>>,
    _: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> ScimResult {
    let query = parse_list_query(&params)?;
    let user = find_user(&hub, &id).await?;
    Ok(single(&headers, &USER, &query, &user_json(&hub, &user).await?, user.version))
}

async fn create_user(State(hub): State<Arc<Hub>>, token: ScimToken, ScimJson(body): ScimJson) -> ScimResult {
    let mut fields = user_from_scim(&body)?;
    let password = fields.password.take();
    let active = fields.active.unwrap_or(true);
    let new = NewUser {
        user_name: fields.user_name,
        external_id: fields.external_id,
        emails: fields.emails,
        given_name: fields.given_name,
        family_name: fields.family_name,
        display_name: fields.display_name,
        active,
        attributes: fields.attributes,
    };
    let user = hub.directory.create_user(&token.actor(), &new, password.as_deref()).await?;
    Ok(resource(StatusCode::CREATED, &user_json(&hub, &user).await?, user.version))
}

/// Saves `fields` over `user` (and the password, if one came), audited, and answers.
async fn save_user(hub: &Hub, token: &ScimToken, mut user: User, mut fields: UserFields) -> ScimResult {
    let password = fields.password.take();
    fields.apply_to(&mut user);
    let user = hub.directory.update_user(&token.actor(), &user, password.as_deref()).await?;
    Ok(resource(StatusCode::OK, &user_json(hub, &user).await?, user.version))
}

async fn replace_user(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let user = find_user(&hub, &id).await?;
    check_if_match(&headers, user.version)?;
    let mut fields = user_from_scim(&body)?;
    // A replacement without `active` keeps the default a new user gets.
    fields.active = Some(fields.active.unwrap_or(true));
    save_user(&hub, &token, user, fields).await
}

async fn patch_user(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let operations = parse_patch(&body)?;
    let user = find_user(&hub, &id).await?;
    check_if_match(&headers, user.version)?;
    let mut json = user_json(&hub, &user).await?;
    apply_patch(&mut json, &operations, &USER)?;
    let fields = user_from_scim(&json)?;
    save_user(&hub, &token, user, fields).await
}

async fn delete_user(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let user = find_user(&hub, &id).await?;
    check_if_match(&headers, user.version)?;
    hub.directory.delete_user(&token.actor(), &user).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn group_json(hub: &Hub, group: &Group) -> Result<Value, Failure> {
    let members = hub.store.members(&group.id).await?;
    Ok(group_to_scim(group, &members, &base(hub)))
}

async fn find_group(hub: &Hub, id: &str) -> Result<Group, Failure> {
    hub.store.get_group(id).await?.ok_or_else(|| Failure(ScimError::not_found(format!("no Group with id {id:?}"))))
}

/// Groups matching the query's filter within `page`, and how many match in all.
async fn query_groups(hub: &Hub, query: &ListQuery, page: Page) -> Result<(Vec<Value>, i64), Failure> {
    let condition = match &query.filter {
        None => None,
        Some(filter) => {
            filter.validate(&GROUP)?;
            Some(group_condition(filter))
        }
    };
    if let Some(Some(condition)) = &condition {
        let (groups, total) = hub.store.search_groups(condition, page).await?;
        let mut items = Vec::with_capacity(groups.len());
        for group in &groups {
            items.push(group_json(hub, group).await?);
        }
        return Ok((items, total));
    }
    if condition.is_none() {
        let (groups, total) = hub.store.list_groups(page).await?;
        let mut items = Vec::with_capacity(groups.len());
        for group in &groups {
            items.push(group_json(hub, group).await?);
        }
        return Ok((items, total));
    }
    // A filter on members: evaluate on each group's representation.
    let mut matching = Vec::new();
    let mut offset = 0;
    loop {
        let (groups, total) = hub.store.list_groups(Page { offset, limit: 1000 }).await?;
        for group in &groups {
            let json = group_json(hub, group).await?;
            if query.filter.as_ref().is_some_and(|f| f.matches(&json, &GROUP)) {
                matching.push(json);
            }
        }
        offset += groups.len() as i64;
        if groups.is_empty() || offset >= total || offset >= SCAN_LIMIT {
            break;
        }
    }
    let total = matching.len() as i64;
    Ok((window(matching, page), total))
}

async fn list_groups(
    State(hub): State<Arc<Hub>>,
    _: ScimToken,
    Query(params): Query<Vec<(String, String)>>,
) -> ScimResult {
    listing(&hub, &GROUP, &parse_list_query(&params)?).await
}

async fn search_groups(State(hub): State<Arc<Hub>>, _: ScimToken, ScimJson(body): ScimJson) -> ScimResult {
    listing(&hub, &GROUP, &parse_list_query(&search_params(&body)?)?).await
}

async fn get_group(
    State(hub): State<Arc<Hub>>,
    _: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> ScimResult {
    let query = parse_list_query(&params)?;
    let group = find_group(&hub, &id).await?;
    Ok(single(&headers, &GROUP, &query, &group_json(&hub, &group).await?, group.version))
}

/// Every member must be a user of this directory: an unknown one is named, and nothing changes.
async fn check_members(hub: &Hub, members: &[String]) -> Result<(), Failure> {
    for id in members {
        if hub.store.get_user(id).await?.is_none() {
            return Err(Failure(ScimError::bad_request(
                ScimType::InvalidValue,
                format!("members: there is no User with id {id:?}; create the user first"),
            )));
        }
    }
    Ok(())
}

async fn create_group(State(hub): State<Arc<Hub>>, token: ScimToken, ScimJson(body): ScimJson) -> ScimResult {
    let (name, external_id, members) = group_from_scim(&body)?;
    check_members(&hub, &members).await?;
    let group = hub.directory.create_group(&token.actor(), &name, external_id.as_deref(), &members).await?;
    Ok(resource(StatusCode::CREATED, &group_json(&hub, &group).await?, group.version))
}

/// Saves a group's new name, externalId and members (checked beforehand) in one transaction:
/// the version (ETag) moves.
async fn save_group(hub: &Hub, token: &ScimToken, group: Group, wanted: Value) -> ScimResult {
    let (name, external_id, members) = group_from_scim(&wanted)?;
    check_members(hub, &members).await?;
    let renamed = Group { display_name: name, external_id, ..group.clone() };
    let saved = hub.directory.save_group(&token.actor(), &group, &renamed, &members).await?;
    Ok(resource(StatusCode::OK, &group_json(hub, &saved).await?, saved.version))
}

async fn replace_group(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let group = find_group(&hub, &id).await?;
    check_if_match(&headers, group.version)?;
    save_group(&hub, &token, group, body).await
}

async fn patch_group(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> ScimResult {
    let operations = parse_patch(&body)?;
    let group = find_group(&hub, &id).await?;
    check_if_match(&headers, group.version)?;
    let mut json = group_json(&hub, &group).await?;
    apply_patch(&mut json, &operations, &GROUP)?;
    save_group(&hub, &token, group, json).await
}

async fn delete_group(
    State(hub): State<Arc<Hub>>,
    token: ScimToken,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let group = find_group(&hub, &id).await?;
    check_if_match(&headers, group.version)?;
    hub.directory.delete_group(&token.actor(), &group).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
