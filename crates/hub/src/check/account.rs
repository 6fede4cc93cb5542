//! The links between the hub and the target account, per application: the hub's certificate, the
//! account, the sign-in URL, the session names, the SAML provider and its certificate, the role
//! and its trust, the federation policy, the relay state and the Connect users.

use crossfed_clock::Clock;
use crossfed_iam::{RequestContext, RequestPrincipal};

use super::model::{AwsApp, HubView, Report, Target, TargetAccess, certificate_expiry, server_date, target};
use super::targets::TargetAccounts;
use crate::apps::model::ROLE_SESSION_NAME_ATTRIBUTE;
use crate::aws::query::RoleInfo;
use crate::views::RoleTrust;
use crate::views::UserView;

/// What the checks read from the hub once, for every application.
pub(super) struct HubRead<'a> {
    pub(super) users: &'a [UserView],
    /// Each key role's state and who trusts it.
    pub(super) keys: &'a [RoleTrust],
}

pub(super) async fn check_application<H: HubView>(
    hub: &H,
    accounts: &mut TargetAccounts<'_>,
    app: &AwsApp,
    read: &HubRead<'_>,
    clock: &Clock,
    report: &mut Report,
    clocks: &mut Vec<(String, i64)>,
) {
    let now = clock.unix();
    let id = app.id.as_str();
    let metadata_url = app.view.metadata_url.clone();
    let (hub_metadata, hub_date) = match hub.application_metadata(&app.view).await {
        Ok(m) => m,
        Err(e) => return report.fail("hub-metadata", id, e.to_string(), "start the hub, or check its URL"),
    };
    if let Some(date) = hub_date {
        clocks.push(("hub".to_string(), date));
    }
    let hub_entity = match crossfed_saml::EntityDescriptor::parse(hub_metadata.as_bytes()) {
        Ok(e) => e,
        Err(e) => return report.fail("hub-metadata", id, format!("unreadable: {e}"), "report this as a bug"),
    };
    let hub_certificates = hub_entity.idp.as_ref().map(|d| d.signing_certificates.clone()).unwrap_or_default();
    let Some(signing) = hub_certificates.first().cloned() else {
        return report.fail(
            "hub-metadata",
            id,
            "the hub's metadata has no signing certificate",
            "report this as a bug",
        );
    };
    certificate_expiry(
        report,
        "hub-certificate",
        id,
        &signing,
        now,
        "roll the assertion key over: crossfed keys rollover --role assertion (console → Keys)",
    );

    let Some((index, access)) = choose_target(accounts, app, report).await else { return };
    let target = match target(access, &app.region, clock) {
        Ok(t) => t,
        Err(e) => {
            return report.fail("target-account", id, e.to_string(), "check the target account's endpoint and keys");
        }
    };
    if let Ok(response) = reqwest::get(&target.signin_url).await
        && let Some(date) = server_date(&response)
    {
        clocks.push(("target account".to_string(), date));
    }
    // Even an entry chosen by its configured account_id is asked: the keys must reach it.
    match accounts.caller_account(index, &app.region).await {
        Ok(account) if account == app.account_id => {
            report.pass("target-account", id, format!("keys reach account {account}"))
        }
        Ok(account) if accounts.targets().len() == 1 => report.fail(
            "target-account",
            id,
            format!("the application names account {} but the target's keys belong to {account}", app.account_id),
            "correct account_id of the application, or check the keys of the account it names",
        ),
        Ok(account) => {
            return report.fail(
                "target-account",
                id,
                format!(
                    "the target account entry for {} has keys of another account: {} belong to account {account}",
                    app.account_id,
                    access.keys_label()
                ),
                "correct that entry's account_id, or give it keys of the account it names",
            );
        }
        Err(e) => {
            return report.fail(
                "target-account",
                id,
                e,
                "check the target account's endpoint and keys (--target, --access-key-id, --secret-access-key)",
            );
        }
    }
    let acs = app.view.acs_url.as_str();
    if acs == target.signin_url {
        report.pass("signin-url", id, format!("assertions go to {acs}"));
    } else {
        report.fail(
            "signin-url",
            id,
            format!("assertions go to {acs}, but the account signs in at {}", target.signin_url),
            format!("set signin_url = \"{}\" in the application", target.signin_url),
        );
    }

    // The assigned people, each with the RoleSessionName the hub would send.
    let mut sessions: Vec<(String, String)> = Vec::new();
    for user in read.users {
        let name = user.user.user_name.as_str();
        if !user.user.active {
            continue;
        }
        let Ok(preview) = hub.preview(id, name).await else { continue };
        if !preview.assigned {
            continue;
        }
        match preview.attribute(ROLE_SESSION_NAME_ATTRIBUTE).filter(|_| preview.error.is_none()) {
            Some(session) => sessions.push((name.to_string(), session.to_string())),
            None => report.fail(
                "session-name",
                id,
                format!("{name} gets no RoleSessionName: {}", preview.error.as_deref().unwrap_or("-")),
                format!(
                    "give {name} the value the mapping needs, one no other user has (crossfed apps preview {id} --user {name})"
                ),
            ),
        }
    }

    for (role_name, provider_name) in &app.roles {
        let provider_arn = format!("arn:aws:iam::{}:saml-provider/{provider_name}", app.account_id);
        let provider = match target.iam.saml_provider_metadata(&provider_arn).await {
            Ok(xml) => {
                report.pass("saml-provider", id, format!("{provider_name} exists"));
                xml
            }
            Err(e) => {
                report.fail(
                    "saml-provider",
                    id,
                    format!("{provider_name}: {e}"),
                    format!("create the IAM SAML provider {provider_name} with the hub's metadata: {metadata_url}"),
                );
                continue;
            }
        };
        match crossfed_saml::EntityDescriptor::parse(provider.as_bytes()) {
            Ok(entity) => {
                let trusted = entity.idp.as_ref().map(|d| d.signing_certificates.clone()).unwrap_or_default();
                let fix = format!(
                    "re-upload the hub's metadata ({metadata_url}) to the SAML provider {provider_name} (aws iam update-saml-provider)"
                );
                if entity.entity_id != hub_entity.entity_id {
                    report.fail(
                        "provider-certificate",
                        id,
                        format!(
                            "{provider_name} trusts issuer {:?}, the hub signs as {:?}",
                            entity.entity_id, hub_entity.entity_id
                        ),
                        fix,
                    );
                } else if trusted.iter().any(|c| c.fingerprint_hex() == signing.fingerprint_hex()) {
                    report.pass(
                        "provider-certificate",
                        id,
                        format!("{provider_name} trusts the hub's signing certificate"),
                    );
                    super::keys::provider_rollover(read.keys, app, provider_name, &trusted, report);
                } else {
                    report.fail(
                        "provider-certificate",
                        id,
                        format!(
                            "{provider_name} does not trust the certificate the hub signs with (SHA-256 {})",
                            signing.fingerprint_hex().chars().take(16).collect::<String>()
                        ),
                        fix,
                    );
                }
            }
            Err(e) => report.fail(
                "provider-certificate",
                id,
                format!("{provider_name}'s metadata does not read: {e}"),
                format!("re-upload {metadata_url}"),
            ),
        }
        let role = match target.iam.role(role_name).await {
            Ok(role) => {
                report.pass("role", id, format!("{role_name} exists"));
                role
            }
            Err(e) => {
                report.fail(
                    "role",
                    id,
                    format!("{role_name}: {e}"),
                    format!("create the role {role_name} in account {}", app.account_id),
                );
                continue;
            }
        };
        let trust = crossfed_iam::Policy::parse_as(&role.trust_policy, crossfed_iam::PolicyKind::Trust);
        let context = RequestContext::new("sts:AssumeRoleWithSAML", role.arn.clone())
            .with_principal(RequestPrincipal::federated(provider_arn.clone()))
            .with_key("SAML:aud", target.signin_url.as_str());
        match trust {
            Ok(policy) if crossfed_iam::evaluate_trust(&policy, &context).is_allowed() => {
                report.pass(
                    "role-trust",
                    id,
                    format!("{role_name} trusts {provider_name} for SAML:aud {}", target.signin_url),
                );
            }
            Ok(_) => report.fail(
                "role-trust",
                id,
                format!(
                    "{role_name}'s trust policy does not let {provider_name} assume it for SAML:aud {}",
                    target.signin_url
                ),
                format!(
                    "allow sts:AssumeRoleWithSAML for Federated {provider_arn} with StringEquals SAML:aud {}",
                    target.signin_url
                ),
            ),
            Err(e) => {
                report.fail("role-trust", id, format!("{role_name}'s trust policy: {e}"), "correct the trust policy")
            }
        }
        if let Some(instance) = &app.instance_id {
            // A policy for an instance that does not exist is moot: the relay state's link says so.
            if instance_exists(&target, instance).await {
                check_federation_policy(&target, app, instance, role_name, &role, &sessions, report).await;
            }
        }
    }
    if let Some(instance) = &app.instance_id {
        check_connect(&target, app, instance, &sessions, report).await;
    }
}

/// The configured target account for the application's account: with one entry configured,
/// that entry (its keys are then checked against the account); with several, the one whose
/// account the application names, or one finding saying none is.
async fn choose_target<'a>(
    accounts: &mut TargetAccounts<'a>,
    app: &AwsApp,
    report: &mut Report,
) -> Option<(usize, &'a TargetAccess)> {
    let targets = accounts.targets();
    if let [only] = targets {
        return Some((0, only));
    }
    match accounts.for_account(&app.account_id, &app.region).await {
        Ok(found) => Some(found),
        Err(missing) => {
            report.fail(
                "target-account",
                &app.id,
                missing.to_string(),
                format!(
                    "add a [[target_accounts]] entry with account_id = \"{}\" and keys that may read it to the hub's configuration (crossfed check: --hub-config FILE, or --target, --access-key-id and --secret-access-key of that account)",
                    app.account_id
                ),
            );
            None
        }
    }
}

async fn check_federation_policy(
    target: &Target,
    app: &AwsApp,
    instance: &str,
    role_name: &str,
    role: &RoleInfo,
    sessions: &[(String, String)],
    report: &mut Report,
) {
    let id = app.id.as_str();
    let policies = match target.iam.inline_policies(role_name).await {
        Ok(p) => p,
        Err(e) => {
            return report.fail(
                "federation-policy",
                id,
                format!("{role_name}'s policies: {e}"),
                "allow the checking keys iam:ListRolePolicies and iam:GetRolePolicy",
            );
        }
    };
    let parsed: Vec<crossfed_iam::Policy> =
        policies.iter().filter_map(|(_, text)| crossfed_iam::Policy::parse(text).ok()).collect();
    let refs: Vec<&crossfed_iam::Policy> = parsed.iter().collect();
    let sample = sessions.first().map(|(_, s)| s.clone()).unwrap_or_else(|| "someone@example.com".to_string());
    let user_id = format!("{}:{sample}", role.role_id);
    let resource = format!("arn:aws:connect:{}:{}:instance/{instance}/user/{user_id}", app.region, app.account_id);
    let context = RequestContext::new("connect:GetFederationToken", resource.clone())
        .with_key("aws:userid", user_id.as_str())
        .with_key("aws:username", sample.as_str())
        .with_key("aws:PrincipalArn", role.arn.as_str());
    if crossfed_iam::evaluate(&refs, &context).is_allowed() {
        report.pass(
            "federation-policy",
            id,
            format!("{role_name} may call connect:GetFederationToken for its sessions"),
        );
    } else {
        let attached = target.iam.attached_policies(role_name).await.unwrap_or_default();
        let note =
            if attached.is_empty() { String::new() } else { format!(" (managed policies {attached:?} were not read)") };
        report.fail(
            "federation-policy",
            id,
            format!("{role_name}'s inline policies do not allow connect:GetFederationToken on {resource}{note}"),
            format!(
                "add a policy allowing connect:GetFederationToken on arn:aws:connect:{}:{}:instance/{instance}/user/${{aws:userid}}",
                app.region, app.account_id
            ),
        );
    }
}

async fn instance_exists(target: &Target, instance: &str) -> bool {
    let Some(connect) = &target.connect else { return false };
    connect.describe_instance(instance).await.is_ok()
}

async fn check_connect(
    target: &Target,
    app: &AwsApp,
    instance: &str,
    sessions: &[(String, String)],
    report: &mut Report,
) {
    let id = app.id.as_str();
    let relay = app.view.relay_state.as_deref().unwrap_or("-");
    let Some(connect) = &target.connect else {
        return report.fail("relay-state", id, "no Connect client", "check --target");
    };
    let described = connect.describe_instance(instance).await;
    match described {
        Ok(_) if relay.contains(&format!("/connect/federate/{instance}")) => {
            report.pass("relay-state", id, format!("{relay} names instance {instance}, which exists"));
        }
        Ok(_) => report.fail(
            "relay-state",
            id,
            format!("{relay} does not name instance {instance}"),
            "set the application's instance_id",
        ),
        Err(e) => {
            return report.fail(
                "relay-state",
                id,
                format!("{relay} names instance {instance}, which the account does not have: {e}"),
                "set instance_id of the application to the Connect instance's ID (Connect console → instance → ARN)",
            );
        }
    }
    let provisioning = app.provisioning;
    let existing: Vec<String> = match connect.list_users(instance).await {
        Ok(list) => list.into_iter().map(|u| u.username.to_lowercase()).collect(),
        Err(e) => {
            return report.fail(
                "connect-user",
                id,
                format!("listing the Connect users: {e}"),
                "allow the checking keys connect:ListUsers",
            );
        }
    };
    if sessions.is_empty() {
        report.fail(
            "connect-user",
            id,
            "nobody is assigned to the application",
            format!("crossfed assign {id} --user NAME"),
        );
    }
    for (user, session) in sessions {
        if existing.contains(&session.to_lowercase()) {
            report.pass("connect-user", user, format!("Connect user {session} exists"));
        } else if provisioning {
            report.fail(
                "connect-user",
                user,
                format!("no Connect user {session} in instance {instance}, although provisioning is on"),
                "see crossfed provisioning status",
            );
        } else {
            report.fail(
                "connect-user",
                user,
                format!("no Connect user {session} in instance {instance}: Connect will refuse {user}"),
                format!("create the Connect user {session} (identity management SAML), or give the application [applications.amazon_connect.provisioning]"),
            );
        }
    }
}
