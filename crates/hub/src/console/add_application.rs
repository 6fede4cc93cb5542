//! Adding an application from the catalog in the console: Amazon Connect, AWS account access, or
//! a custom SAML application (its ACS and audience, or its SP metadata pasted). The form becomes
//! the same JSON the admin API takes, checked by the same function.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::{escape, see_other};
use serde_json::{Map, Value, json};

use super::guard::ConsoleForm;
use super::message;
use crate::apps::spec::spec_from_json;
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::web::error::ApiError;

/// The form, under the list of applications.
pub(super) fn form(csrf: &str) -> String {
    let csrf = escape(csrf);
    let text = |name: &str, label: &str, hint: &str| {
        format!("<label>{label} <input name=\"{name}\" placeholder=\"{hint}\" size=\"36\"></label><br>")
    };
    format!(
        "<h2>Add an application</h2><form method=\"post\" action=\"/admin/applications\" id=\"add-application\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label>From the catalog <select name=\"template\"><option value=\"amazon-connect\">Amazon Connect</option>\
<option value=\"aws-account\">AWS account access</option><option value=\"custom\">Custom SAML 2.0 application</option></select></label><br>\
{}{}<fieldset><legend>Amazon Connect and AWS account access</legend>{}{}{}{}{}</fieldset>\
<fieldset><legend>Custom SAML 2.0 application: its ACS and audience, or its SP metadata</legend>{}{}\
<label>SP metadata <textarea name=\"metadata_xml\" rows=\"4\" cols=\"80\" placeholder=\"&lt;EntityDescriptor …\"></textarea></label></fieldset>\
<button type=\"submit\">Add the application</button></form>",
        text("id", "ID", "used in URLs, such as connect"),
        text("name", "Name", "shown in the portal"),
        text("account_id", "Account", "123456789012"),
        text("region", "Region (Amazon Connect)", "us-east-1"),
        text("instance_id", "Connect instance ID (Amazon Connect)", "from the instance's ARN"),
        text("role_name", "Role", "ConnectAgent"),
        text("provider_name", "IAM SAML provider", "CrossfedHub"),
        text("acs_url", "ACS URL", "https://app.example.com/saml/acs"),
        text("audience", "Audience (SP entity ID)", "https://app.example.com"),
    )
}

/// The posted form as the admin API's JSON: the fields the chosen template takes, those left
/// empty omitted (so the template's own checks name what is missing).
fn definition(fields: &[(String, String)]) -> Result<Value, NoTemplate> {
    let field =
        |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty());
    let pick = |keys: &[&str]| -> Map<String, Value> {
        keys.iter().filter_map(|k| field(k).map(|v| ((*k).to_string(), Value::String(v)))).collect()
    };
    let mut app = json!({"id": field("id").unwrap_or_default(), "name": field("name").unwrap_or_default()});
    let body = match field("template").as_deref() {
        Some("amazon-connect") => (
            "amazon_connect",
            Value::Object(pick(&["account_id", "region", "instance_id", "role_name", "provider_name"])),
        ),
        Some("aws-account") => {
            let mut account = pick(&["account_id"]);
            account.insert("roles".into(), json!([pick(&["role_name", "provider_name"])]));
            ("aws_account", Value::Object(account))
        }
        Some("custom") => ("custom", Value::Object(pick(&["acs_url", "audience", "metadata_xml"]))),
        _ => return Err(NoTemplate),
    };
    if let Some(object) = app.as_object_mut() {
        object.insert(body.0.to_string(), body.1);
    }
    Ok(app)
}

/// The form names no template of the catalog.
#[derive(Debug, thiserror::Error)]
#[error("choose a template: amazon-connect, aws-account or custom")]
struct NoTemplate;

async fn refused(hub: &Hub, session: &ConsoleSession, status: StatusCode, text: &str) -> Response {
    super::applications_page(hub, session, status, &message("error", &format!("Not added: {text}"))).await
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, posted: ConsoleForm<Vec<(String, String)>>) -> Response {
    let ConsoleForm { session, form: fields } = posted;
    let value = match definition(&fields) {
        Ok(v) => v,
        Err(e) => return refused(&hub, &session, StatusCode::BAD_REQUEST, &e.to_string()).await,
    };
    let (id, spec) = match spec_from_json(value, None) {
        Ok(parsed) => parsed,
        Err(e) => return refused(&hub, &session, StatusCode::BAD_REQUEST, &e.to_string()).await,
    };
    match hub.apps().create(&session.actor(), &id, &spec).await.map_err(ApiError::from) {
        Ok(_) => see_other(&format!("/admin/applications/{}", super::path_segment(&id)), None),
        Err(e) => refused(&hub, &session, e.status, &e.message).await,
    }
}
