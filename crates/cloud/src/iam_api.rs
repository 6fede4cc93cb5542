//! IAM actions on SAML providers, roles and policies, with the validation IAM performs.

use std::collections::{BTreeMap, HashMap};

use crossfed_iam::{Policy, PolicyKind};
use crossfed_saml::EntityDescriptor;
use crossfed_store::ObjectKey;

use crate::aws_xml::{XmlOut, iso8601};
use crate::error::AwsError;
use crate::ids;
use crate::model::{ManagedPolicy, Role, SamlProvider, kind};
use crate::state::{Resources, Versioned};

/// Form parameters of a query-API call.
pub type Params = HashMap<String, String>;

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, AwsError> {
    params.get(name).map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| {
        AwsError::validation(format!(
            "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// IAM names: 1 to 128 (roles: 64) characters of `[\w+=,.@-]`.
fn check_name(what: &str, name: &str, max: usize) -> Result<(), AwsError> {
    let ok =
        (1..=max).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AwsError::validation(format!("{what} {name:?} is invalid: use 1 to {max} letters, digits and _+=,.@-")))
    }
}

fn parse_policy(document: &str, kind: PolicyKind, what: &str) -> Result<Policy, AwsError> {
    Policy::parse_as(document, kind).map_err(|e| AwsError::malformed_policy(format!("{what}: {e}")))
}

/// IAM's quota "Keys per SAML provider": the signing certificates one provider's metadata may
/// hold (not adjustable).
pub const MAX_PROVIDER_KEYS: usize = 10;

/// CreateSAMLProvider / UpdateSAMLProvider: the metadata must parse and describe an IdP with
/// signing certificates, at most [`MAX_PROVIDER_KEYS`] of them.
fn provider_from_metadata(account: &str, name: &str, metadata: &str, now: i64) -> Result<SamlProvider, AwsError> {
    let entity = EntityDescriptor::parse(metadata.as_bytes())
        .map_err(|e| AwsError::new("InvalidInput", 400, format!("Could not parse metadata: {e}")))?;
    let idp = entity
        .require_idp()
        .map_err(|e| AwsError::new("InvalidInput", 400, format!("Could not parse metadata: {e}")))?;
    if idp.signing_certificates.is_empty() {
        return Err(AwsError::new("InvalidInput", 400, "Could not parse metadata: it has no signing certificate"));
    }
    // The metadata reader already counts a certificate listed twice once.
    let keys = idp.signing_certificates.len();
    if keys > MAX_PROVIDER_KEYS {
        return Err(AwsError::limit_exceeded(format!(
            "SAML provider {name}: the metadata holds {keys} signing certificates, and a SAML provider may hold at most {MAX_PROVIDER_KEYS} (quota \"Keys per SAML provider\"); remove the retired ones"
        )));
    }
    Ok(SamlProvider {
        arn: format!("arn:aws:iam::{account}:saml-provider/{name}"),
        name: name.to_string(),
        account: account.to_string(),
        metadata_xml: metadata.to_string(),
        entity_id: entity.entity_id.clone(),
        signing_certificates: idp.signing_certificates.iter().map(|c| c.to_base64()).collect(),
        created: now,
        valid_until: entity.valid_until.map(|t| t.unix()),
    })
}

pub async fn create_saml_provider(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let name = required(params, "Name")?;
    check_name("Name", name, 128)?;
    let provider = provider_from_metadata(account, name, required(params, "SAMLMetadataDocument")?, now)?;
    let key =
        ObjectKey { kind: kind::SAML_PROVIDER, scope: account, name_key: &name.to_lowercase(), id: &provider.arn };
    resources
        .insert_new(key, &provider, now, || AwsError::entity_exists(format!("SAMLProvider {name} already exists.")))
        .await?;
    out.leaf("SAMLProviderArn", &provider.arn);
    Ok(())
}

async fn existing_provider(resources: &Resources, params: &Params) -> Result<Versioned<SamlProvider>, AwsError> {
    let arn = required(params, "SAMLProviderArn")?;
    resources
        .provider_by_arn(arn)
        .await?
        .ok_or_else(|| AwsError::no_such_entity(format!("Manifest not found for arn {arn}")))
}

pub async fn get_saml_provider(resources: &Resources, params: &Params, out: &mut XmlOut) -> Result<(), AwsError> {
    let provider = existing_provider(resources, params).await?.value;
    out.leaf("SAMLMetadataDocument", &provider.metadata_xml).leaf("CreateDate", &iso8601(provider.created));
    if let Some(until) = provider.valid_until {
        out.leaf("ValidUntil", &iso8601(until));
    }
    Ok(())
}

pub async fn update_saml_provider(
    resources: &Resources,
    params: &Params,
    now: i64,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let existing = existing_provider(resources, params).await?;
    let mut updated = provider_from_metadata(
        &existing.value.account,
        &existing.value.name,
        required(params, "SAMLMetadataDocument")?,
        now,
    )?;
    updated.created = existing.value.created;
    resources.update(kind::SAML_PROVIDER, &existing.value.arn, &updated, existing.version, now).await?;
    out.leaf("SAMLProviderArn", &updated.arn);
    Ok(())
}

pub async fn delete_saml_provider(resources: &Resources, params: &Params) -> Result<(), AwsError> {
    let provider = existing_provider(resources, params).await?.value;
    resources.delete(kind::SAML_PROVIDER, &provider.arn).await
}

pub async fn list_saml_providers(resources: &Resources, account: &str, out: &mut XmlOut) -> Result<(), AwsError> {
    let providers: Vec<SamlProvider> = resources.list(kind::SAML_PROVIDER, account).await?;
    out.open("SAMLProviderList");
    for p in providers {
        out.open("member").leaf("Arn", &p.arn).leaf("CreateDate", &iso8601(p.created));
        if let Some(until) = p.valid_until {
            out.leaf("ValidUntil", &iso8601(until));
        }
        out.close("member");
    }
    out.close("SAMLProviderList");
    Ok(())
}

fn percent_encode(text: &str) -> String {
    // IAM returns policy documents URL-encoded.
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn write_role(out: &mut XmlOut, role: &Role) {
    out.open("Role")
        .leaf("Path", &role.path)
        .leaf("RoleName", &role.name)
        .leaf("RoleId", &role.role_id)
        .leaf("Arn", &role.arn)
        .leaf("CreateDate", &iso8601(role.created))
        .leaf("AssumeRolePolicyDocument", &percent_encode(&role.assume_role_policy))
        .leaf_opt("Description", role.description.as_deref())
        .leaf("MaxSessionDuration", &role.max_session_duration.to_string())
        .close("Role");
}

pub async fn create_role(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let name = required(params, "RoleName")?;
    check_name("RoleName", name, 64)?;
    let trust = required(params, "AssumeRolePolicyDocument")?;
    parse_policy(trust, PolicyKind::Trust, "AssumeRolePolicyDocument")?;
    let max_session_duration = match params.get("MaxSessionDuration") {
        Some(v) => v.parse::<i64>().ok().filter(|d| (3600..=43_200).contains(d)).ok_or_else(|| {
            AwsError::validation(format!("MaxSessionDuration {v:?} must be a number of seconds from 3600 to 43200"))
        })?,
        None => 3600,
    };
    let path = params.get("Path").map_or("/", String::as_str);
    if !path.starts_with('/') || !path.ends_with('/') {
        return Err(AwsError::validation(format!("Path {path:?} must begin and end with /")));
    }
    let role = Role {
        arn: format!("arn:aws:iam::{account}:role{path}{name}"),
        name: name.to_string(),
        account: account.to_string(),
        role_id: ids::role_id(),
        path: path.to_string(),
        description: params.get("Description").cloned(),
        assume_role_policy: trust.to_string(),
        max_session_duration,
        inline_policies: BTreeMap::new(),
        attached_policies: Vec::new(),
        created: now,
    };
    let key = ObjectKey { kind: kind::ROLE, scope: account, name_key: &name.to_lowercase(), id: &role.role_id };
    resources
        .insert_new(key, &role, now, || AwsError::entity_exists(format!("Role with name {name} already exists.")))
        .await?;
    write_role(out, &role);
    Ok(())
}

async fn existing_role(resources: &Resources, account: &str, params: &Params) -> Result<Versioned<Role>, AwsError> {
    let name = required(params, "RoleName")?;
    resources
        .find(kind::ROLE, account, &name.to_lowercase())
        .await?
        .ok_or_else(|| AwsError::no_such_entity(format!("The role with name {name} cannot be found.")))
}

/// Loads the role named in `params`, lets `change` modify it, and saves it.
async fn modify_role(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
    change: impl FnOnce(&mut Role) -> Result<(), AwsError>,
) -> Result<(), AwsError> {
    let mut role = existing_role(resources, account, params).await?;
    change(&mut role.value)?;
    resources.update(kind::ROLE, &role.value.role_id, &role.value, role.version, now).await?;
    Ok(())
}

pub async fn get_role(resources: &Resources, account: &str, params: &Params, out: &mut XmlOut) -> Result<(), AwsError> {
    write_role(out, &existing_role(resources, account, params).await?.value);
    Ok(())
}

pub async fn delete_role(resources: &Resources, account: &str, params: &Params) -> Result<(), AwsError> {
    let role = existing_role(resources, account, params).await?.value;
    if !role.inline_policies.is_empty() || !role.attached_policies.is_empty() {
        return Err(AwsError::new("DeleteConflict", 409, "Cannot delete entity, must delete policies first."));
    }
    resources.delete(kind::ROLE, &role.role_id).await
}

pub async fn update_assume_role_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
) -> Result<(), AwsError> {
    let document = required(params, "PolicyDocument")?;
    parse_policy(document, PolicyKind::Trust, "PolicyDocument")?;
    modify_role(resources, account, params, now, |role| {
        role.assume_role_policy = document.to_string();
        Ok(())
    })
    .await
}
pub async fn put_role_policy(resources: &Resources, account: &str, params: &Params, now: i64) -> Result<(), AwsError> {
    let name = required(params, "PolicyName")?;
    check_name("PolicyName", name, 128)?;
    let document = required(params, "PolicyDocument")?;
    parse_policy(document, PolicyKind::Identity, "PolicyDocument")?;
    modify_role(resources, account, params, now, |role| {
        role.inline_policies.insert(name.to_string(), document.to_string());
        Ok(())
    })
    .await
}
pub async fn get_role_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let role = existing_role(resources, account, params).await?.value;
    let name = required(params, "PolicyName")?;
    let document = role
        .inline_policies
        .get(name)
        .ok_or_else(|| AwsError::no_such_entity(format!("The role policy with name {name} cannot be found.")))?;
    out.leaf("RoleName", &role.name).leaf("PolicyName", name).leaf("PolicyDocument", &percent_encode(document));
    Ok(())
}

pub async fn delete_role_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
) -> Result<(), AwsError> {
    let name = required(params, "PolicyName")?;
    modify_role(resources, account, params, now, |role| match role.inline_policies.remove(name) {
        Some(_) => Ok(()),
        None => Err(AwsError::no_such_entity(format!("The role policy with name {name} cannot be found."))),
    })
    .await
}
pub async fn list_role_policies(
    resources: &Resources,
    account: &str,
    params: &Params,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let role = existing_role(resources, account, params).await?.value;
    out.open("PolicyNames");
    for name in role.inline_policies.keys() {
        out.leaf("member", name);
    }
    out.close("PolicyNames").leaf("IsTruncated", "false");
    Ok(())
}

pub async fn create_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let name = required(params, "PolicyName")?;
    check_name("PolicyName", name, 128)?;
    let document = required(params, "PolicyDocument")?;
    parse_policy(document, PolicyKind::Identity, "PolicyDocument")?;
    let policy = ManagedPolicy {
        arn: format!("arn:aws:iam::{account}:policy/{name}"),
        name: name.to_string(),
        account: account.to_string(),
        policy_id: ids::policy_id(),
        document: document.to_string(),
        created: now,
    };
    let key = ObjectKey { kind: kind::POLICY, scope: account, name_key: &name.to_lowercase(), id: &policy.arn };
    resources
        .insert_new(key, &policy, now, || AwsError::entity_exists(format!("A policy called {name} already exists.")))
        .await?;
    out.open("Policy")
        .leaf("PolicyName", &policy.name)
        .leaf("PolicyId", &policy.policy_id)
        .leaf("Arn", &policy.arn)
        .leaf("Path", "/")
        .leaf("DefaultVersionId", "v1")
        .leaf("AttachmentCount", "0")
        .leaf("IsAttachable", "true")
        .leaf("CreateDate", &iso8601(now))
        .leaf("UpdateDate", &iso8601(now))
        .close("Policy");
    Ok(())
}

pub async fn attach_role_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
) -> Result<(), AwsError> {
    let arn = required(params, "PolicyArn")?;
    if resources.get::<ManagedPolicy>(kind::POLICY, arn).await?.is_none() {
        return Err(AwsError::no_such_entity(format!("Policy {arn} does not exist or is not attachable.")));
    }
    modify_role(resources, account, params, now, |role| {
        if !role.attached_policies.iter().any(|a| a == arn) {
            role.attached_policies.push(arn.to_string());
        }
        Ok(())
    })
    .await
}
pub async fn detach_role_policy(
    resources: &Resources,
    account: &str,
    params: &Params,
    now: i64,
) -> Result<(), AwsError> {
    let arn = required(params, "PolicyArn")?;
    modify_role(resources, account, params, now, |role| {
        let before = role.attached_policies.len();
        role.attached_policies.retain(|a| a != arn);
        if role.attached_policies.len() == before {
            return Err(AwsError::no_such_entity(format!("Policy {arn} was not found.")));
        }
        Ok(())
    })
    .await
}
pub async fn list_attached_role_policies(
    resources: &Resources,
    account: &str,
    params: &Params,
    out: &mut XmlOut,
) -> Result<(), AwsError> {
    let role = existing_role(resources, account, params).await?.value;
    out.open("AttachedPolicies");
    for arn in &role.attached_policies {
        let name = arn.rsplit('/').next().unwrap_or(arn);
        out.open("member").leaf("PolicyName", name).leaf("PolicyArn", arn).close("member");
    }
    out.close("AttachedPolicies").leaf("IsTruncated", "false");
    Ok(())
}

/// The permission policies of a role: inline, then attached managed ones.
pub async fn role_permission_policies(resources: &Resources, role: &Role) -> Result<Vec<(String, Policy)>, AwsError> {
    let mut policies = Vec::new();
    for (name, document) in &role.inline_policies {
        policies.push((format!("inline policy {name}"), parse_policy(document, PolicyKind::Identity, name)?));
    }
    for arn in &role.attached_policies {
        if let Some(p) = resources.get::<ManagedPolicy>(kind::POLICY, arn).await? {
            policies.push((
                format!("managed policy {}", p.value.name),
                parse_policy(&p.value.document, PolicyKind::Identity, arn)?,
            ));
        }
    }
    Ok(policies)
}
