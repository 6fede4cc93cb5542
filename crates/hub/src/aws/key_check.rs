//! Proving that an AWS account accepts a signing key before the hub signs with it: the Response
//! the hub would post to the account's sign-in for an application, built by the launch code for a
//! synthetic person (RoleSessionName `crossfed-key-check`) and one Role pair, signed with the key
//! under test ([`key_check_response`], no I/O); then presented to STS `AssumeRoleWithSAML`
//! ([`verify_key`]), which validates it against the SAML provider's certificates and the role's
//! trust policy as a sign-in would.

use base64::Engine;
use crossfed_clock::Clock;
use crossfed_saml::Timestamp;
use crossfed_xmldsig::SigningKey;
use thiserror::Error;

use crate::apps::launch::{Launch, LaunchError, build_launch_response};
use crate::apps::mapping::{Template, UserValues};
use crate::apps::model::{Application, ROLE_ATTRIBUTE, ROLE_SESSION_NAME_ATTRIBUTE};
use crate::apps::spec::ApplicationSpec;
use crate::aws::query::QueryError;
use crate::check::TargetAccess;

/// The RoleSessionName of a key check, so that its sessions are told apart in CloudTrail.
pub const KEY_CHECK_SESSION: &str = "crossfed-key-check";

/// The synthetic person's e-mail address (a reserved top-level domain: it reaches no one), for
/// applications whose NameID is an e-mail address.
const KEY_CHECK_EMAIL: &str = "crossfed-key-check@key-check.invalid";

/// The shortest session STS grants: a key check needs none at all.
const KEY_CHECK_SECONDS: i64 = 900;

/// One value of the Role attribute: a role, and the SAML provider it is assumed through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePair {
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub role_arn: String,
    /// `arn:aws:iam::ACCOUNT:saml-provider/NAME`.
    pub provider_arn: String,
}

/// The AWS account an application signs people into, and the Role pairs its assertions carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRoles {
    pub account_id: String,
    /// The region STS is asked in (the Connect instance's; us-east-1 for console access).
    pub region: String,
    pub pairs: Vec<RolePair>,
}

/// The account and Role pairs of an Amazon Connect or AWS account application; `None` for a
/// custom SAML application, which signs into no AWS account.
pub fn aws_roles(spec: &ApplicationSpec) -> Option<AwsRoles> {
    let (account_id, region, names) = match (&spec.amazon_connect, &spec.aws_account) {
        (Some(c), _) => (&c.account_id, c.region.as_str(), vec![(&c.role_name, &c.provider_name)]),
        (None, Some(a)) => {
            (&a.account_id, "us-east-1", a.roles.iter().map(|r| (&r.role_name, &r.provider_name)).collect())
        }
        (None, None) => return None,
    };
    let pairs = names
        .into_iter()
        .map(|(role, provider)| RolePair {
            role_arn: format!("arn:aws:iam::{account_id}:role/{role}"),
            provider_arn: format!("arn:aws:iam::{account_id}:saml-provider/{provider}"),
        })
        .collect();
    Some(AwsRoles { account_id: account_id.clone(), region: region.to_string(), pairs })
}

/// Why a key check could not be made, or was refused.
#[derive(Debug, Error)]
pub enum KeyCheckError {
    #[error(
        "application {application:?} carries no {ROLE_ATTRIBUTE} attribute: expected an Amazon Connect or AWS account application, found another kind"
    )]
    NotAws { application: String },
    #[error("building the key check's assertion for {application:?}: {source}")]
    Assertion { application: String, source: LaunchError },
    #[error("reaching {target}: {source}")]
    Client { target: String, source: Box<QueryError> },
    /// The account refused the assertion: AWS's error code and message are in `source`.
    #[error("{target} refused the key check for {role_arn}: {source}")]
    Refused { target: String, role_arn: String, source: Box<QueryError> },
}

impl KeyCheckError {
    /// AWS's error code when the account refused the assertion (`InvalidIdentityToken` for a
    /// certificate the provider does not trust, `AccessDenied` for a trust policy that does not
    /// allow it, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            KeyCheckError::Refused { source, .. } | KeyCheckError::Client { source, .. } => source.code(),
            _ => None,
        }
    }
}

/// The base64 SAML Response the hub would post to an AWS account's sign-in at `signin_url` for
/// application `app` (the hub signing as `issuer`), carrying only the Role pair `pair` and the
/// RoleSessionName [`KEY_CHECK_SESSION`], signed with `key` at `now`. The Destination and
/// Recipient are `signin_url` (which is what `SAML:aud` is compared with); everything else is what
/// a launch of `app` sends.
pub fn key_check_response(
    app: &Application,
    issuer: &str,
    signin_url: &str,
    pair: &RolePair,
    key: &SigningKey,
    now: Timestamp,
) -> Result<String, KeyCheckError> {
    let mut checked = app.clone();
    checked.acs_url = signin_url.to_string();
    let mut has_role = false;
    for mapping in &mut checked.attributes {
        if mapping.name == ROLE_ATTRIBUTE {
            // Role first, as launches send it.
            mapping.template = Template::literal(&format!("{},{}", pair.role_arn, pair.provider_arn));
            has_role = true;
        } else if mapping.name == ROLE_SESSION_NAME_ATTRIBUTE {
            mapping.template = Template::literal(KEY_CHECK_SESSION);
        }
    }
    if !has_role {
        return Err(KeyCheckError::NotAws { application: app.name.clone() });
    }
    let person = UserValues {
        subject: KEY_CHECK_SESSION.to_string(),
        user_name: KEY_CHECK_SESSION.to_string(),
        email: Some(KEY_CHECK_EMAIL.to_string()),
        display_name: Some("crossfed key check".to_string()),
        ..UserValues::default()
    };
    let launch = Launch { issuer, in_response_to: None, authn_instant: now, session_index: "_crossfed-key-check" };
    let built = build_launch_response(&checked, &launch, &person, key, now)
        .map_err(|source| KeyCheckError::Assertion { application: app.name.clone(), source })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(built.xml.as_bytes()))
}

/// Proves that the account `target` reaches accepts `key` for application `app` and Role pair
/// `pair`: a [`key_check_response`] for the account's sign-in URL, signed with `key` at `now`, is
/// presented to STS `AssumeRoleWithSAML`. Returns the assumed role's session ARN
/// (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/crossfed-key-check`); the short-lived credentials STS
/// issues are dropped.
pub async fn verify_key(
    target: &TargetAccess,
    app: &Application,
    issuer: &str,
    pair: &RolePair,
    key: &SigningKey,
    now: Timestamp,
) -> Result<String, KeyCheckError> {
    let saml = key_check_response(app, issuer, &target.signin_url(), pair, key, now)?;
    // The call is unsigned: the clock only satisfies the client, it signs nothing.
    let sts = target
        .sts("us-east-1", &Clock::fixed(now))
        .map_err(|source| KeyCheckError::Client { target: target.label(), source: Box::new(source) })?;
    let assumed = sts
        .assume_role_with_saml(&pair.role_arn, &pair.provider_arn, &saml, Some(KEY_CHECK_SECONDS))
        .await
        .map_err(|source| KeyCheckError::Refused {
        target: target.label(),
        role_arn: pair.role_arn.clone(),
        source: Box::new(source),
    })?;
    Ok(assumed.arn)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::apps::model::{AwsAccount, AwsRole};

    fn app() -> Application {
        AwsAccount {
            account_id: "111111111111".into(),
            roles: vec![
                AwsRole { role_name: "Admin".into(), provider_name: "Hub".into() },
                AwsRole { role_name: "ReadOnly".into(), provider_name: "Hub".into() },
            ],
            signin_url: Some("https://signin.aws.amazon.com/saml".into()),
            relay_state: None,
            session_duration: 3600,
        }
        .application("console")
        .unwrap()
    }

    #[test]
    fn the_response_carries_one_role_pair_the_key_check_session_and_the_signin_url() {
        let now = Timestamp::from_unix(1_800_000_000).unwrap();
        let key = SigningKey::generate_rsa("hub", now, 30).unwrap();
        let pair = RolePair {
            role_arn: "arn:aws:iam::111111111111:role/ReadOnly".into(),
            provider_arn: "arn:aws:iam::111111111111:saml-provider/Hub".into(),
        };
        let signin = "http://127.0.0.1:9/saml";
        let encoded =
            key_check_response(&app(), "https://hub.example.com/saml/apps/console", signin, &pair, &key, now).unwrap();
        let xml = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()).unwrap();
        let role = format!("{},{}", pair.role_arn, pair.provider_arn);
        assert!(xml.contains(&role), "{xml}");
        assert!(!xml.contains("role/Admin"), "only the pair checked: {xml}");
        assert!(xml.contains(&format!(">{KEY_CHECK_SESSION}<")), "{xml}");
        assert!(xml.contains(&format!("Recipient=\"{signin}\"")), "{xml}");
        assert!(xml.contains(&format!("Destination=\"{signin}\"")), "{xml}");
        assert!(xml.contains(key.certificate().base64()), "signed with the key under test: {xml}");

        let custom = Application { attributes: Vec::new(), ..app() };
        let refused = key_check_response(&custom, "issuer", signin, &pair, &key, now).unwrap_err();
        assert!(matches!(refused, KeyCheckError::NotAws { .. }), "{refused}");
        assert!(refused.to_string().contains("expected an Amazon Connect or AWS account application"), "{refused}");
    }

    #[test]
    fn role_pairs_come_from_the_application_settings() {
        let spec: ApplicationSpec = toml::from_str(
            r#"
name = "console"
[aws_account]
account_id = "222222222222"
roles = [{ role_name = "Admin", provider_name = "Hub" }]
"#,
        )
        .unwrap();
        let roles = aws_roles(&spec).unwrap();
        assert_eq!(roles.account_id, "222222222222");
        assert_eq!(roles.region, "us-east-1");
        assert_eq!(
            roles.pairs,
            [RolePair {
                role_arn: "arn:aws:iam::222222222222:role/Admin".into(),
                provider_arn: "arn:aws:iam::222222222222:saml-provider/Hub".into(),
            }]
        );
        let custom: ApplicationSpec =
            toml::from_str("name = \"wiki\"\n[custom]\nacs_url = \"https://w.example.com/acs\"\naudience = \"w\"\n")
                .unwrap();
        assert_eq!(aws_roles(&custom), None);
    }
}
