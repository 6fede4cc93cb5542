//! A small client for the AWS Query protocol (IAM, STS): form-encoded POSTs signed with SigV4,
//! XML answers. The reads `crossfed check` needs (a SAML provider's metadata and certificates, a
//! role with its trust policy and inline policies, the caller's account), and what a key rollover
//! does: a SAML provider's metadata replaced, and a role assumed with a SAML assertion (unsigned,
//! as AWS takes it: the assertion is the credential).

use std::time::Duration;

use crossfed_clock::Clock;
use crossfed_saml::EntityDescriptor;
use crossfed_xmldsig::Certificate;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use reqwest::Url;
use thiserror::Error;

use crate::aws::connect::{amz_date, host_header};

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

#[derive(Debug, Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
    /// AWS refused the call: its error code (`NoSuchEntity`, `InvalidIdentityToken`, …) and
    /// message.
    #[error("{action}: {code}: {message}")]
    Service { action: String, code: String, message: String },
    #[error("{action}: cannot reach {url}: {reason}")]
    Unavailable { action: String, url: String, reason: String },
    #[error("{action}: unexpected answer: {0}", action = .1)]
    Protocol(String, String),
    /// A SAML provider's metadata that does not read as an identity provider's.
    #[error("the metadata of SAML provider {arn} does not read as an identity provider's: {source}")]
    ProviderMetadata { arn: String, source: crossfed_saml::MetadataError },
}

impl QueryError {
    /// The AWS error code, such as `NoSuchEntity`.
    pub fn code(&self) -> Option<&str> {
        match self {
            QueryError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One endpoint and one set of keys.
#[derive(Debug, Clone)]
pub struct QueryClient {
    base: Url,
    region: String,
    access_key_id: String,
    secret_access_key: String,
    http: reqwest::Client,
    /// The time calls are signed at.
    clock: Clock,
}

/// The session an `AssumeRoleWithSAML` opened (its temporary credentials are not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// `ROLE_ID:SESSION`, what policies see as `aws:userid`.
    pub assumed_role_id: String,
}

/// A role as `GetRole` describes it.
#[derive(Debug, Clone)]
pub struct RoleInfo {
    pub arn: String,
    pub role_id: String,
    /// The trust policy, decoded.
    pub trust_policy: String,
}

impl QueryClient {
    /// `region` is what the signature is scoped to (IAM: us-east-1); calls are signed at
    /// `clock`'s time.
    pub fn new(
        base_url: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        clock: Clock,
    ) -> Result<Self, QueryError> {
        let base = Url::parse(base_url).map_err(|e| QueryError::Invalid(format!("endpoint {base_url:?}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| QueryError::Invalid(format!("HTTP client: {e}")))?;
        Ok(QueryClient {
            base,
            region: region.to_string(),
            access_key_id: access_key_id.to_string(),
            secret_access_key: secret_access_key.to_string(),
            http,
            clock,
        })
    }

    /// Sends `action` of `service` with `params` and returns the answer's XML text.
    pub async fn call(&self, service: &str, action: &str, params: &[(&str, &str)]) -> Result<String, QueryError> {
        self.send(service, action, params, true).await
    }

    /// Sends `action`, SigV4-signed when `signed`, and returns the answer's XML text.
    async fn send(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
        signed: bool,
    ) -> Result<String, QueryError> {
        let version = if service == "sts" { "2011-06-15" } else { "2010-05-08" };
        let mut pairs = vec![("Action", action), ("Version", version)];
        pairs.extend_from_slice(params);
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, UNRESERVED), utf8_percent_encode(v, UNRESERVED)))
            .collect();
        let body = body.join("&").into_bytes();
        let mut headers =
            vec![("content-type".to_string(), "application/x-www-form-urlencoded; charset=utf-8".to_string())];
        if signed {
            let host =
                host_header(&self.base).ok_or_else(|| QueryError::Invalid(format!("{} has no host", self.base)))?;
            let date = amz_date(self.clock.now());
            headers.push(("host".to_string(), host));
            headers.push(("x-amz-date".to_string(), date.clone()));
            let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
            let body_sha256 = crossfed_sigv4::hex_sha256(&body);
            let request = crossfed_sigv4::Request {
                method: "POST",
                path: self.base.path(),
                query: "",
                headers: &headers,
                body_sha256: &body_sha256,
            };
            let authorization = crossfed_sigv4::sign(
                &request,
                &names,
                &self.access_key_id,
                &self.secret_access_key,
                &date,
                &self.region,
                service,
            )
            .map_err(|e| QueryError::Invalid(format!("signing {action}: {e}")))?;
            headers.push(("authorization".to_string(), authorization));
        }
        let mut call = self.http.post(self.base.clone()).body(body);
        for (name, value) in &headers {
            call = call.header(name, value);
        }
        let unavailable = |e: reqwest::Error| QueryError::Unavailable {
            action: action.to_string(),
            url: self.base.to_string(),
            reason: e.to_string(),
        };
        let response = call.send().await.map_err(unavailable)?;
        let status = response.status();
        let text = response.text().await.map_err(unavailable)?;
        if status.is_success() {
            return Ok(text);
        }
        let doc = crossfed_xml::parse(text.as_bytes()).ok();
        let field = |name: &str| {
            doc.as_ref().and_then(|d| {
                d.descendants().find(|e| e.local_name() == name).and_then(|e| e.text().ok()).map(str::to_string)
            })
        };
        match field("Code") {
            Some(code) => Err(QueryError::Service {
                action: action.to_string(),
                code,
                message: field("Message").unwrap_or_default(),
            }),
            None => Err(QueryError::Protocol(
                format!("HTTP {status}: {}", text.chars().take(200).collect::<String>()),
                action.to_string(),
            )),
        }
    }

    /// The text of every element named `name` in the answer to `action`.
    async fn values(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
        name: &str,
    ) -> Result<Vec<String>, QueryError> {
        let text = self.call(service, action, params).await?;
        let doc = crossfed_xml::parse(text.as_bytes())
            .map_err(|e| QueryError::Protocol(format!("not XML: {e}"), action.to_string()))?;
        Ok(doc
            .descendants()
            .filter(|e| e.local_name() == name)
            .filter_map(|e| e.text().ok().map(str::to_string))
            .collect())
    }

    async fn value(
        &self,
        service: &str,
        action: &str,
        params: &[(&str, &str)],
        name: &str,
    ) -> Result<String, QueryError> {
        self.values(service, action, params, name)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| QueryError::Protocol(format!("no {name} in the answer"), action.to_string()))
    }

    /// The account the keys belong to.
    pub async fn caller_account(&self) -> Result<String, QueryError> {
        self.value("sts", "GetCallerIdentity", &[], "Account").await
    }

    /// A SAML provider's metadata document.
    pub async fn saml_provider_metadata(&self, arn: &str) -> Result<String, QueryError> {
        self.value("iam", "GetSAMLProvider", &[("SAMLProviderArn", arn)], "SAMLMetadataDocument").await
    }

    /// The signing certificates of the identity provider a SAML provider's metadata describes:
    /// those an assertion may be signed with to be accepted.
    pub async fn saml_provider_certificates(&self, arn: &str) -> Result<Vec<Certificate>, QueryError> {
        let xml = self.saml_provider_metadata(arn).await?;
        let metadata = |source| QueryError::ProviderMetadata { arn: arn.to_string(), source };
        let entity = EntityDescriptor::parse(xml.as_bytes()).map_err(metadata)?;
        let idp = entity.require_idp().map_err(metadata)?;
        Ok(idp.signing_certificates.clone())
    }

    /// Replaces a SAML provider's metadata document (and with it the certificates it trusts);
    /// returns the provider's ARN as IAM answers it.
    pub async fn update_saml_provider(&self, arn: &str, metadata_xml: &str) -> Result<String, QueryError> {
        let params = [("SAMLProviderArn", arn), ("SAMLMetadataDocument", metadata_xml)];
        self.value("iam", "UpdateSAMLProvider", &params, "SAMLProviderArn").await
    }

    /// Assumes `role_arn` through the SAML provider `principal_arn` with a base64 SAML Response,
    /// for `duration_seconds` (AWS's default, an hour, when `None`). Sent unsigned, as AWS takes
    /// it: the assertion is the credential, so this client's keys play no part.
    pub async fn assume_role_with_saml(
        &self,
        role_arn: &str,
        principal_arn: &str,
        saml_response_base64: &str,
        duration_seconds: Option<i64>,
    ) -> Result<AssumedRole, QueryError> {
        let action = "AssumeRoleWithSAML";
        let duration = duration_seconds.map(|d| d.to_string());
        let mut params =
            vec![("RoleArn", role_arn), ("PrincipalArn", principal_arn), ("SAMLAssertion", saml_response_base64)];
        if let Some(d) = &duration {
            params.push(("DurationSeconds", d.as_str()));
        }
        let text = self.send("sts", action, &params, false).await?;
        let doc = crossfed_xml::parse(text.as_bytes())
            .map_err(|e| QueryError::Protocol(format!("not XML: {e}"), action.to_string()))?;
        let user = doc
            .descendants()
            .find(|e| e.local_name() == "AssumedRoleUser")
            .ok_or_else(|| QueryError::Protocol("no AssumedRoleUser in the answer".to_string(), action.to_string()))?;
        let field = |name: &str| {
            user.child_elements()
                .find(|e| e.local_name() == name)
                .and_then(|e| e.text().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    QueryError::Protocol(format!("no AssumedRoleUser/{name} in the answer"), action.to_string())
                })
        };
        Ok(AssumedRole { arn: field("Arn")?, assumed_role_id: field("AssumedRoleId")? })
    }

    pub async fn role(&self, name: &str) -> Result<RoleInfo, QueryError> {
        let text = self.call("iam", "GetRole", &[("RoleName", name)]).await?;
        let doc = crossfed_xml::parse(text.as_bytes())
            .map_err(|e| QueryError::Protocol(format!("not XML: {e}"), "GetRole".to_string()))?;
        let field = |local: &str| {
            doc.descendants()
                .find(|e| e.local_name() == local)
                .and_then(|e| e.text().ok())
                .map(str::to_string)
                .ok_or_else(|| QueryError::Protocol(format!("no {local} in the answer"), "GetRole".to_string()))
        };
        Ok(RoleInfo {
            arn: field("Arn")?,
            role_id: field("RoleId")?,
            trust_policy: decode_policy(&field("AssumeRolePolicyDocument")?),
        })
    }

    /// The role's inline policies, by name, decoded.
    pub async fn inline_policies(&self, role: &str) -> Result<Vec<(String, String)>, QueryError> {
        let names = self.values("iam", "ListRolePolicies", &[("RoleName", role)], "member").await?;
        let mut policies = Vec::new();
        for name in names {
            let document = self
                .value("iam", "GetRolePolicy", &[("RoleName", role), ("PolicyName", &name)], "PolicyDocument")
                .await?;
            policies.push((name, decode_policy(&document)));
        }
        Ok(policies)
    }

    /// ARNs of the managed policies attached to the role.
    pub async fn attached_policies(&self, role: &str) -> Result<Vec<String>, QueryError> {
        self.values("iam", "ListAttachedRolePolicies", &[("RoleName", role)], "PolicyArn").await
    }
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_string();
    }
    percent_decode_str(text).decode_utf8().map(|t| t.into_owned()).unwrap_or_else(|_| text.to_string())
}
