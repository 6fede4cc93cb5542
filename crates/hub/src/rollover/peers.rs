//! Who trusts a role's keys, as far as the hub can tell. The identity source is asked with a
//! probe: an AuthnRequest signed with the key, sent the way a browser would, and an IdP that
//! answers it with a sign-in page (not an error) accepts the key. An AWS account's IAM SAML
//! provider is read through IAM with the configured keys. A custom application does not say what
//! it trusts: it is listed as unknown, and the steps warn about it instead of refusing.

use std::sync::Arc;

use crossfed_saml::Timestamp;
use crossfed_xmldsig::{Certificate, SigningKey};

use crate::apps::catalog::CatalogEntry;
use crate::aws::key_check::{RolePair, aws_roles};
use crate::check::TargetAccess;
use crate::keys::{KeyRing, KeyRole};
use crate::state::Hub;
pub use crate::views::{PeerTrust, Trust};

/// The peers of `ring`'s role and what each trusts, asked now.
pub async fn peers(hub: &Hub, ring: &KeyRing) -> Vec<PeerTrust> {
    let keys = ring.current();
    match ring.role() {
        KeyRole::Request => match &hub.identity_source {
            Some(source) => {
                let probe = |key: Arc<SigningKey>| probe_identity_source(hub, source, key);
                let current = probe(keys.current.clone()).await;
                let next = match &keys.next {
                    Some(next) => Some(probe(next.clone()).await),
                    None => None,
                };
                vec![PeerTrust {
                    peer: format!("identity source {}", source.idp().entity_id),
                    current,
                    next,
                    previous: None,
                }]
            }
            None => Vec::new(),
        },
        role => {
            let catalog = match hub.apps().fresh().await {
                Ok(catalog) => catalog,
                Err(e) => {
                    let unknown = Trust::Unknown(format!("the applications could not be read: {e}"));
                    return vec![PeerTrust {
                        peer: "applications".into(),
                        current: unknown,
                        next: None,
                        previous: None,
                    }];
                }
            };
            let mut list = Vec::new();
            for (id, entry) in &catalog.entries {
                let signs_for = match role {
                    KeyRole::Application(own) => own == id,
                    _ => !entry.app.own_key,
                };
                if signs_for {
                    list.extend(application_peers(hub, id, entry, ring).await);
                }
            }
            list
        }
    }
}

/// The peers behind one application: each IAM SAML provider its Role attribute names, or the
/// application itself, which does not say what it trusts.
async fn application_peers(hub: &Hub, id: &str, entry: &CatalogEntry, ring: &KeyRing) -> Vec<PeerTrust> {
    let keys = ring.current();
    let providers = aws_providers(entry);
    if providers.is_empty() {
        let unknown =
            || Trust::Unknown("it does not publish what it trusts; re-import the hub's metadata there".into());
        return vec![PeerTrust {
            peer: format!("application {id}"),
            current: unknown(),
            next: keys.next.as_ref().map(|_| unknown()),
            previous: None,
        }];
    }
    let mut list = Vec::new();
    for provider in providers {
        let peer = format!("account {} provider {} (application {id})", provider.account, provider.name);
        let trusted = match target_for(hub, &provider.account).await {
            Ok(access) => provider_certificates(hub, &access, &provider).await,
            Err(e) => Err(e),
        };
        let judge = |certificate: &Certificate| match &trusted {
            Ok(list) if list.iter().any(|c| c.fingerprint_hex() == certificate.fingerprint_hex()) => Trust::Yes,
            Ok(_) => Trust::No(format!("{} does not list certificate {}", provider.name, short(certificate))),
            Err(e) => Trust::Unknown(e.clone()),
        };
        list.push(PeerTrust {
            peer,
            current: judge(keys.current.certificate()),
            next: keys.next.as_ref().map(|k| judge(k.certificate())),
            previous: keys.previous.as_ref().map(&judge),
        });
    }
    list
}

/// The first 16 hex digits of a certificate's SHA-256 fingerprint, as the status shows them.
pub fn short(certificate: &Certificate) -> String {
    certificate.fingerprint_hex().chars().take(16).collect()
}

/// One IAM SAML provider an AWS application's Role attribute names, with the role assumed
/// through it.
pub(crate) struct Provider {
    pub(crate) account: String,
    /// The provider's name (the last part of its ARN).
    pub(crate) name: String,
    pub(crate) pair: RolePair,
}

/// The providers an application's Role attribute names ([`aws_roles`]); none for a custom one.
pub(crate) fn aws_providers(entry: &CatalogEntry) -> Vec<Provider> {
    let Some(roles) = aws_roles(&entry.spec) else { return Vec::new() };
    roles
        .pairs
        .into_iter()
        .map(|pair| Provider {
            account: roles.account_id.clone(),
            name: pair.provider_arn.rsplit('/').next().unwrap_or_default().to_string(),
            pair,
        })
        .collect()
}

/// The configured keys that reach `account` (`[[target_accounts]]`), or why there are none.
pub(crate) async fn target_for(hub: &Hub, account: &str) -> Result<TargetAccess, String> {
    let targets = hub.check_parties.as_ref().map(|p| p.targets.as_slice()).unwrap_or_default();
    crate::check::target_for_account(targets, account, "us-east-1", &hub.clock).await.map_err(|e| e.to_string())
}

/// The signing certificates an IAM SAML provider trusts now.
pub(crate) async fn provider_certificates(
    hub: &Hub,
    access: &TargetAccess,
    provider: &Provider,
) -> Result<Vec<Certificate>, String> {
    let iam = access.iam(&hub.clock).map_err(|e| e.to_string())?;
    let arn = &provider.pair.provider_arn;
    iam.saml_provider_certificates(arn).await.map_err(|e| format!("reading {arn}: {e}"))
}

/// Sends the identity source an AuthnRequest signed with `key`, as a browser would, without
/// following redirects: a sign-in page or a redirect to one means the IdP took the request; an
/// error status means it refused it.
async fn probe_identity_source(hub: &Hub, source: &crate::upstream::IdentitySource, key: Arc<SigningKey>) -> Trust {
    let url = match source.login_request(false, Timestamp::from(hub.clock.now())).and_then(|r| r.sign(&key, None)) {
        Ok((_, url)) => url,
        Err(e) => return Trust::Unknown(format!("no request could be made: {e}")),
    };
    let client = match reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build() {
        Ok(client) => client,
        Err(e) => return Trust::Unknown(e.to_string()),
    };
    let response = match client.get(&url).timeout(std::time::Duration::from_secs(10)).send().await {
        Ok(response) => response,
        Err(e) => return Trust::Unknown(format!("the IdP did not answer: {e}")),
    };
    let status = response.status();
    let body = read_some(response).await;
    if status.is_redirection() {
        return Trust::Yes;
    }
    if status.is_success() {
        // An IdP may answer a refused signature with a SAML error Response posted back to the
        // hub rather than an error status: that is no sign-in page.
        if body.contains("SAMLResponse") {
            return Trust::Unknown("the IdP answered with a SAML Response, not a sign-in page; look at its log".into());
        }
        return Trust::Yes;
    }
    Trust::No(format!(
        "the IdP refused a request signed with this key (HTTP {}): {}",
        status.as_u16(),
        page_reason(&body)
    ))
}

/// The first 64 KiB of an answer's body: enough for any error page, and a peer cannot make the
/// hub read more.
async fn read_some(mut response: reqwest::Response) -> String {
    const LIMIT: usize = 64 * 1024;
    let mut body = Vec::new();
    while body.len() < LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(LIMIT);
    String::from_utf8_lossy(&body).into_owned()
}

/// What an error page says, briefly: its message, else its title, else its first words.
fn page_reason(body: &str) -> String {
    let between = |open: &str, close: char| body.split(open).nth(1).and_then(|rest| rest.split(close).next());
    let text = between("id=\"message\">", '<')
        .or_else(|| between("<title>", '<'))
        .map(crossfed_saml::html_unescape)
        .unwrap_or_else(|| body.split_whitespace().collect::<Vec<_>>().join(" "));
    let short: String = text.trim().chars().take(200).collect();
    short.trim_end().to_string()
}
