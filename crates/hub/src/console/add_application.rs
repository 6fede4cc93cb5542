//! Adding an application from the catalog in the console: Amazon Connect, AWS account access, or
//! a custom SAML application (its ACS and audience, or its SP metadata pasted). The form becomes
//! the same JSON the admin API takes, checked by the same function.

use serde_json::{Map, Value, json};

/// The posted form as the admin API's JSON: the fields the chosen template takes, those left
/// empty omitted (so the template's own checks name what is missing).
pub(super) fn definition(fields: &[(String, String)]) -> Result<Value, NoTemplate> {
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
pub(super) struct NoTemplate;
