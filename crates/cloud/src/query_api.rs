//! `POST /` (or `GET /?Action=…`): the AWS query protocol of STS and IAM. AssumeRoleWithSAML is
//! unsigned (the assertion is the credential); everything else is SigV4-signed, and IAM changes
//! are reserved to the account administrator.

use crate::auth::{Dialect, SignedRequest, authenticate};
use crate::aws_xml::{IAM_NS, STS_NS, XmlOut, error, iso8601, success};
use crate::error::AwsError;
use crate::iam_api::{self, Params};
use crate::model::{Credentials, Principal};
use crate::state::App;
use crate::sts;

/// The XML response status and body of one call.
pub struct QueryResponse {
    pub status: u16,
    pub body: String,
}

fn service_of(action: &str) -> Option<(&'static str, &'static str)> {
    match action {
        "AssumeRoleWithSAML" | "GetCallerIdentity" => Some(("sts", STS_NS)),
        "CreateSAMLProvider"
        | "GetSAMLProvider"
        | "UpdateSAMLProvider"
        | "DeleteSAMLProvider"
        | "ListSAMLProviders"
        | "CreateRole"
        | "GetRole"
        | "DeleteRole"
        | "UpdateAssumeRolePolicy"
        | "PutRolePolicy"
        | "GetRolePolicy"
        | "DeleteRolePolicy"
        | "ListRolePolicies"
        | "CreatePolicy"
        | "AttachRolePolicy"
        | "DetachRolePolicy"
        | "ListAttachedRolePolicies" => Some(("iam", IAM_NS)),
        _ => None,
    }
}

pub async fn handle(app: &App, request: &SignedRequest<'_>, params: &Params, now: i64) -> QueryResponse {
    let request_id = crate::ids::uuid();
    let action = params.get("Action").map(String::as_str).unwrap_or("");
    let Some((service, namespace)) = service_of(action) else {
        let e = AwsError::new("InvalidAction", 400, format!("Could not find operation {action:?} for this endpoint"));
        return QueryResponse { status: e.status, body: error(&e, STS_NS, &request_id) };
    };
    let mut out = XmlOut::default();
    match dispatch(app, request, params, action, service, now, &mut out).await {
        Ok(()) => {
            let body = success(action, namespace, &request_id, &out);
            QueryResponse { status: 200, body }
        }
        Err(e) => QueryResponse { status: e.status, body: error(&e, namespace, &request_id) },
    }
}

async fn dispatch(
    app: &App,
    request: &SignedRequest<'_>,
    params: &Params,
    action: &str,
    service: &str,
    now: i64,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    if action == "AssumeRoleWithSAML" {
        return assume_role_with_saml(app, params, now, out).await;
    }
    let caller =
        authenticate(&app.resources, &app.settings, &app.administrator, request, service, Dialect::Query, now).await?;
    if action == "GetCallerIdentity" {
        out.leaf("Arn", &caller.principal.arn())
            .leaf("UserId", &caller.principal.user_id())
            .leaf("Account", caller.principal.account());
        return Ok(());
    }
    require_administrator(&caller, action)?;
    let resources = &app.resources;
    let account = app.settings.account.as_str();
    match action {
        "CreateSAMLProvider" => iam_api::create_saml_provider(resources, account, params, now, out).await,
        "GetSAMLProvider" => iam_api::get_saml_provider(resources, params, out).await,
        "UpdateSAMLProvider" => iam_api::update_saml_provider(resources, params, now, out).await,
        "DeleteSAMLProvider" => iam_api::delete_saml_provider(resources, params).await,
        "ListSAMLProviders" => iam_api::list_saml_providers(resources, account, out).await,
        "CreateRole" => iam_api::create_role(resources, account, params, now, out).await,
        "GetRole" => iam_api::get_role(resources, account, params, out).await,
        "DeleteRole" => iam_api::delete_role(resources, account, params).await,
        "UpdateAssumeRolePolicy" => iam_api::update_assume_role_policy(resources, account, params, now).await,
        "PutRolePolicy" => iam_api::put_role_policy(resources, account, params, now).await,
        "GetRolePolicy" => iam_api::get_role_policy(resources, account, params, out).await,
        "DeleteRolePolicy" => iam_api::delete_role_policy(resources, account, params, now).await,
        "ListRolePolicies" => iam_api::list_role_policies(resources, account, params, out).await,
        "CreatePolicy" => iam_api::create_policy(resources, account, params, now, out).await,
        "AttachRolePolicy" => iam_api::attach_role_policy(resources, account, params, now).await,
        "DetachRolePolicy" => iam_api::detach_role_policy(resources, account, params, now).await,
        "ListAttachedRolePolicies" => iam_api::list_attached_role_policies(resources, account, params, out).await,
        _ => Err(AwsError::new("InvalidAction", 400, format!("Could not find operation {action}"))),
    }
}

/// IAM administration is the account administrator's; assumed-role sessions get AccessDenied
/// (their permission policies in this emulation cover Connect federation, not IAM).
fn require_administrator(caller: &Credentials, action: &str) -> Result<(), AwsError> {
    match &caller.principal {
        Principal::Administrator { .. } => Ok(()),
        other => Err(AwsError::new(
            "AccessDenied",
            403,
            format!("User: {} is not authorized to perform: iam:{action}", other.arn()),
        )),
    }
}

async fn assume_role_with_saml(app: &App, params: &Params, now: i64, out: &mut XmlOut) -> Result<(), AwsError> {
    let field = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| AwsError::validation(format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null")))
    };
    let role_arn = field("RoleArn")?;
    let principal_arn = field("PrincipalArn")?;
    let assertion = field("SAMLAssertion")?;
    let duration = match params.get("DurationSeconds") {
        Some(d) => {
            Some(d.parse::<i64>().map_err(|_| AwsError::validation(format!("DurationSeconds {d:?} is not a number")))?)
        }
        None => None,
    };
    if params.contains_key("Policy") || params.keys().any(|k| k.starts_with("PolicyArns")) {
        return Err(AwsError::validation("Session policies (Policy, PolicyArns) are not supported by this emulation"));
    }
    let validated = sts::validate(&app.resources, &app.settings, assertion, Some(principal_arn), now).await?;
    let assumed = sts::assume_role(&app.resources, &validated, role_arn, principal_arn, duration, now).await?;
    out.open("Credentials")
        .leaf("AccessKeyId", &assumed.credentials.access_key_id)
        .leaf("SecretAccessKey", &assumed.credentials.secret_access_key)
        .leaf("SessionToken", assumed.credentials.session_token.as_deref().unwrap_or(""))
        .leaf("Expiration", &iso8601(assumed.expiration))
        .close("Credentials");
    out.open("AssumedRoleUser")
        .leaf("AssumedRoleId", &assumed.assumed_role_id)
        .leaf("Arn", &assumed.assumed_role_arn)
        .close("AssumedRoleUser");
    out.leaf("Audience", &assumed.audience)
        .leaf("Issuer", &assumed.issuer)
        .leaf("Subject", &assumed.subject)
        .leaf("SubjectType", &assumed.subject_type)
        .leaf("NameQualifier", &assumed.name_qualifier);
    Ok(())
}
