//! An outbound client for the Amazon Connect API, for provisioning the users the hub federates
//! into Connect. It speaks the real REST-JSON protocol, SigV4-signed for the service `connect`,
//! so it works against AWS as well as against crossfed's emulated account.

use std::time::Duration;

use crossfed_clock::Clock;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use thiserror::Error;
use time::{OffsetDateTime, UtcOffset};

/// The SigV4 signing name of Amazon Connect.
const SERVICE: &str = "connect";
/// The largest page the List operations accept, to keep round trips few.
const PAGE_SIZE: &str = "1000";
/// A bound on pages followed, so that a service repeating tokens cannot keep a caller forever.
const MAX_PAGES: usize = 1000;
/// Everything but the RFC 3986 unreserved characters is encoded in path segments and queries.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// AWS error codes that mean "slow down and try again".
const THROTTLING_CODES: [&str; 6] = [
    "ThrottlingException",
    "TooManyRequestsException",
    "Throttling",
    "RequestLimitExceeded",
    "ServiceUnavailableException",
    "RequestTimeoutException",
];

/// Where the Connect API is and whose keys sign the calls.
#[derive(Clone)]
pub struct ConnectEndpoint {
    /// `https://connect.us-east-1.amazonaws.com`, or an emulated account's `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for ConnectEndpoint {
    // The secret must not end up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectEndpoint")
            .field("base_url", &self.base_url)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A user as ListUsers returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectUserSummary {
    pub id: String,
    pub arn: String,
    pub username: String,
}

/// A user as DescribeUser returns it, with the fields provisioning compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectUserDetails {
    pub id: String,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub security_profile_ids: Vec<String>,
    pub routing_profile_id: String,
}

/// A user to create in an instance whose identities are managed by SAML: no password.
#[derive(Debug, Clone, Copy)]
pub struct NewConnectUser<'a> {
    pub username: &'a str,
    /// AWS requires first and last names for SAML instances; the emulation does not.
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub security_profile_ids: &'a [String],
    pub routing_profile_id: &'a str,
}

/// Why a Connect call failed, worded for an administrator's status column.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConnectError {
    /// The service answered with an AWS error.
    #[error(
        "Amazon Connect {verb} {operation}: {code}{separator}{message}",
        verb = if *status >= 500 { "failed" } else { "refused" },
        separator = if message.is_empty() { "" } else { ": " }
    )]
    Service { operation: &'static str, status: u16, code: String, message: String },
    /// The service could not be reached, timed out, or answered 5xx/429 without an AWS error: worth
    /// retrying.
    #[error("Amazon Connect unavailable: {0}")]
    Unavailable(String),
    /// The answer was not what the API defines.
    #[error("Amazon Connect answered something unexpected: {0}")]
    Protocol(String),
    /// A profile name given in the configuration does not exist in the instance.
    #[error(
        "Amazon Connect instance {instance_id} has no {kind} named {name:?}; it has: {}",
        available.join(", ")
    )]
    UnknownProfile { kind: &'static str, instance_id: String, name: String, available: Vec<String> },
    /// The endpoint or an argument is unusable; nothing was sent.
    #[error("Amazon Connect client: {0}")]
    Invalid(String),
}

impl ConnectError {
    /// Whether the same call may succeed later without anything being changed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectError::Unavailable(_) => true,
            ConnectError::Service { status, code, .. } => {
                *status >= 500 || *status == 429 || THROTTLING_CODES.contains(&code.as_str())
            }
            ConnectError::Protocol(_) | ConnectError::UnknownProfile { .. } | ConnectError::Invalid(_) => false,
        }
    }

    /// The AWS error code, when the service answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ConnectError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A request ready to go on the wire: what was signed is exactly what is sent.
#[derive(Debug, Clone)]
pub struct SignedCall {
    pub method: Method,
    pub url: Url,
    /// Lower-case names, including `host` and `authorization`.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A client for one Connect endpoint (one region, one set of keys).
#[derive(Debug, Clone)]
pub struct ConnectClient {
    endpoint: ConnectEndpoint,
    base: Url,
    http: reqwest::Client,
    /// The time calls are signed at.
    clock: Clock,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProfileSummary {
    id: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct IdentityInfo {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribedUser {
    id: String,
    username: String,
    #[serde(default)]
    identity_info: Option<IdentityInfo>,
    #[serde(default)]
    security_profile_ids: Vec<String>,
    routing_profile_id: String,
}

/// `YYYYMMDDTHHMMSSZ` in UTC, as X-Amz-Date wants it.
pub(crate) fn amz_date(now: OffsetDateTime) -> String {
    let t = now.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The Host header value reqwest would derive: the port only when it is not the scheme's default.
pub(crate) fn host_header(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

/// Identity info as the API spells it, leaving out what is not given.
fn identity_info(first_name: Option<&str>, last_name: Option<&str>, email: Option<&str>) -> Value {
    let mut info = Map::new();
    for (field, value) in [("FirstName", first_name), ("LastName", last_name), ("Email", email)] {
        if let Some(value) = value {
            info.insert(field.to_string(), Value::String(value.to_string()));
        }
    }
    Value::Object(info)
}

/// The AWS error code of a failed call: `x-amzn-ErrorType` (which may carry `:` and a URL after
/// the code), else the body's `__type` (which may carry a `namespace#` prefix), else `code`.
fn error_code(header: Option<&str>, body: &Value) -> Option<String> {
    let from_header = header.and_then(|h| h.split(':').next()).map(str::trim).filter(|c| !c.is_empty());
    let from_body = || {
        ["__type", "code", "Code"].iter().find_map(|field| body.get(field).and_then(Value::as_str)).map(|t| {
            let t = t.rsplit('#').next().unwrap_or(t);
            t.split(':').next().unwrap_or(t).trim()
        })
    };
    from_header.or_else(from_body).filter(|c| !c.is_empty()).map(str::to_string)
}

fn error_message(body: &Value) -> String {
    ["message", "Message", "errorMessage"]
        .iter()
        .find_map(|field| body.get(field).and_then(Value::as_str))
        .unwrap_or("")
        .to_string()
}

/// The error and its causes on one line: reqwest's own message alone hides "connection refused".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// A transport failure in an administrator's words: which host, and the innermost cause (reqwest's
/// own message is a generic "error sending request" with the whole URL).
fn transport_error(operation: &str, error: &reqwest::Error) -> ConnectError {
    let host = error.url().and_then(host_header).unwrap_or_else(|| "the endpoint".to_string());
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = if error.is_timeout() {
        format!("{operation}: no answer from {host} in time")
    } else if error.is_connect() {
        format!("{operation}: cannot connect to {host}: {cause}")
    } else {
        format!("{operation}: {host}: {}", error_chain(error))
    };
    ConnectError::Unavailable(text)
}

/// A short, single-line excerpt of a body that is not an AWS error, for the message.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = line.chars().take(200).collect();
    if cut.len() < line.len() {
        cut.push('…');
    }
    cut
}

fn check_id(what: &str, id: &str) -> Result<(), ConnectError> {
    // "." and ".." would be folded away by URL normalization and address another resource.
    if id.is_empty() || id == "." || id == ".." {
        return Err(ConnectError::Invalid(format!("{what} {id:?} is not a valid identifier")));
    }
    Ok(())
}

impl ConnectClient {
    /// A client of `endpoint` signing its calls at `clock`'s time.
    pub fn new(endpoint: ConnectEndpoint, clock: Clock) -> Result<Self, ConnectError> {
        let base = Url::parse(endpoint.base_url.trim_end_matches('/'))
            .map_err(|e| ConnectError::Invalid(format!("base URL {:?}: {e}", endpoint.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(ConnectError::Invalid(format!(
                "base URL {:?} must be an http or https URL with a host",
                endpoint.base_url
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ConnectError::Invalid(format!(
                "base URL {:?} must not have a query or fragment",
                endpoint.base_url
            )));
        }
        if endpoint.region.is_empty() || endpoint.access_key_id.is_empty() || endpoint.secret_access_key.is_empty() {
            return Err(ConnectError::Invalid("the region, access key ID and secret access key are required".into()));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            // A redirected call would arrive elsewhere with a signature made for here.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConnectError::Invalid(format!("HTTP client: {}", error_chain(&e))))?;
        Ok(ConnectClient { endpoint, base, http, clock })
    }

    pub fn endpoint(&self) -> &ConnectEndpoint {
        &self.endpoint
    }

    /// Builds and signs a call without sending it. `segments` are the path's segments, unencoded;
    /// `query` pairs are unencoded too.
    pub fn sign_call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<SignedCall, ConnectError> {
        let mut path = self.base.path().trim_end_matches('/').to_string();
        for segment in segments {
            path.push('/');
            path.extend(utf8_percent_encode(segment, UNRESERVED));
        }
        let query: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", utf8_percent_encode(k, UNRESERVED), utf8_percent_encode(v, UNRESERVED)))
            .collect();
        let query = query.join("&");
        let mut url = self.base.clone();
        url.set_path(&path);
        url.set_query(Some(query.as_str()).filter(|q| !q.is_empty()));
        let host = host_header(&url).ok_or_else(|| ConnectError::Invalid(format!("{url} has no host")))?;
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let date = amz_date(now);

        // What botocore signs for rest-json services: host, x-amz-date and the content type.
        // x-amz-content-sha256 is an S3 header; the payload hash is in the canonical request anyway.
        let mut headers = vec![("host".to_string(), host), ("x-amz-date".to_string(), date.clone())];
        if !body.is_empty() {
            headers.push(("content-type".to_string(), "application/json".to_string()));
        }
        let signed_names: Vec<String> = headers.iter().map(|(name, _)| name.clone()).collect();
        let body_sha256 = crossfed_sigv4::hex_sha256(&body);
        // Sign the URL as it will be written on the wire, after the URL parser's normalization.
        let request = crossfed_sigv4::Request {
            method: method.as_str(),
            path: url.path(),
            query: url.query().unwrap_or(""),
            headers: &headers,
            body_sha256: &body_sha256,
        };
        let authorization = crossfed_sigv4::sign(
            &request,
            &signed_names,
            &self.endpoint.access_key_id,
            &self.endpoint.secret_access_key,
            &date,
            &self.endpoint.region,
            SERVICE,
        )
        .map_err(|e| ConnectError::Invalid(format!("signing the request: {e}")))?;
        headers.push(("authorization".to_string(), authorization));
        Ok(SignedCall { method, url, headers, body })
    }

    /// Signs the call at `now`, sends it and returns the JSON answer (`null` for an empty body).
    /// `operation` names the call in errors.
    pub async fn send(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
        now: OffsetDateTime,
    ) -> Result<Value, ConnectError> {
        let call = self.sign_call(method, segments, query, body, now)?;
        let mut request = self.http.request(call.method, call.url);
        for (name, value) in &call.headers {
            request = request.header(name, value);
        }
        if !call.body.is_empty() {
            request = request.body(call.body);
        }
        let response = request.send().await.map_err(|e| transport_error(operation, &e))?;
        let status = response.status().as_u16();
        let error_type = response.headers().get("x-amzn-errortype").and_then(|v| v.to_str().ok()).map(str::to_string);
        let bytes = response.bytes().await.map_err(|e| transport_error(operation, &e))?;
        let parsed: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            Some(Value::Null)
        } else {
            serde_json::from_slice(&bytes).ok()
        };

        if (200..300).contains(&status) {
            return parsed.ok_or_else(|| {
                ConnectError::Protocol(format!(
                    "{operation}: HTTP {status} with a body that is not JSON: {}",
                    excerpt(&bytes)
                ))
            });
        }
        let body = parsed.unwrap_or(Value::Null);
        match error_code(error_type.as_deref(), &body) {
            Some(code) => Err(ConnectError::Service { operation, status, code, message: error_message(&body) }),
            // Without an AWS error this came from something in between (a proxy, a load balancer).
            None if status >= 500 || status == 429 => {
                Err(ConnectError::Unavailable(format!("{operation}: HTTP {status}: {}", excerpt(&bytes))))
            }
            None => Err(ConnectError::Protocol(format!(
                "{operation}: HTTP {status} without an AWS error code: {}",
                excerpt(&bytes)
            ))),
        }
    }

    /// Follows `NextToken` through every page of a List operation and gathers `list_field`.
    async fn list_all<T: for<'de> Deserialize<'de>>(
        &self,
        operation: &'static str,
        resource: &str,
        instance_id: &str,
        list_field: &str,
    ) -> Result<Vec<T>, ConnectError> {
        check_id("instance ID", instance_id)?;
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut query = vec![("maxResults", PAGE_SIZE)];
            if let Some(token) = &token {
                query.push(("nextToken", token.as_str()));
            }
            let page =
                self.send(operation, Method::GET, &[resource, instance_id], &query, None, self.clock.now()).await?;
            let list = page.get(list_field).cloned().unwrap_or(Value::Array(Vec::new()));
            let mut batch: Vec<T> = serde_json::from_value(list)
                .map_err(|e| ConnectError::Protocol(format!("{operation}: {list_field}: {e}")))?;
            items.append(&mut batch);
            let next = page.get("NextToken").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
            match next {
                None => return Ok(items),
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(ConnectError::Protocol(format!("{operation}: the same NextToken came back twice")));
                }
                Some(next) => token = Some(next),
            }
        }
        Err(ConnectError::Protocol(format!("{operation}: still more pages after {MAX_PAGES}")))
    }

    /// Sends a call that answers nothing of interest.
    async fn update(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<(), ConnectError> {
        self.send(operation, method, segments, &[], body, self.clock.now()).await.map(|_| ())
    }

    /// `DescribeInstance`: the instance, if it exists and the keys may read it.
    pub async fn describe_instance(&self, instance_id: &str) -> Result<Value, ConnectError> {
        self.send("DescribeInstance", Method::GET, &["instance", instance_id], &[], None, self.clock.now()).await
    }

    pub async fn list_users(&self, instance_id: &str) -> Result<Vec<ConnectUserSummary>, ConnectError> {
        self.list_all("ListUsers", "users-summary", instance_id, "UserSummaryList").await
    }

    pub async fn describe_user(&self, instance_id: &str, user_id: &str) -> Result<ConnectUserDetails, ConnectError> {
        check_id("instance ID", instance_id)?;
        check_id("user ID", user_id)?;
        let answer = self
            .send("DescribeUser", Method::GET, &["users", instance_id, user_id], &[], None, self.clock.now())
            .await?;
        let user = answer.get("User").cloned().ok_or_else(|| ConnectError::Protocol("DescribeUser: no User".into()))?;
        let user: DescribedUser =
            serde_json::from_value(user).map_err(|e| ConnectError::Protocol(format!("DescribeUser: User: {e}")))?;
        let info = user.identity_info.unwrap_or_default();
        Ok(ConnectUserDetails {
            id: user.id,
            username: user.username,
            first_name: info.first_name,
            last_name: info.last_name,
            email: info.email,
            security_profile_ids: user.security_profile_ids,
            routing_profile_id: user.routing_profile_id,
        })
    }

    /// Creates the user and returns its ID.
    pub async fn create_user(&self, instance_id: &str, user: &NewConnectUser<'_>) -> Result<String, ConnectError> {
        check_id("instance ID", instance_id)?;
        let body = json!({
            "Username": user.username,
            "IdentityInfo": identity_info(user.first_name, user.last_name, user.email),
            "PhoneConfig": {"PhoneType": "SOFT_PHONE"},
            "SecurityProfileIds": user.security_profile_ids,
            "RoutingProfileId": user.routing_profile_id,
        });
        let answer =
            self.send("CreateUser", Method::PUT, &["users", instance_id], &[], Some(&body), self.clock.now()).await?;
        answer
            .get("UserId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| ConnectError::Protocol("CreateUser: the answer has no UserId".into()))
    }

    pub async fn update_identity_info(
        &self,
        instance_id: &str,
        user_id: &str,
        first_name: Option<&str>,
        last_name: Option<&str>,
        email: Option<&str>,
    ) -> Result<(), ConnectError> {
        check_id("instance ID", instance_id)?;
        check_id("user ID", user_id)?;
        let body = json!({"IdentityInfo": identity_info(first_name, last_name, email)});
        self.update(
            "UpdateUserIdentityInfo",
            Method::POST,
            &["users", instance_id, user_id, "identity-info"],
            Some(&body),
        )
        .await
    }

    pub async fn update_security_profiles(
        &self,
        instance_id: &str,
        user_id: &str,
        security_profile_ids: &[String],
    ) -> Result<(), ConnectError> {
        check_id("instance ID", instance_id)?;
        check_id("user ID", user_id)?;
        let body = json!({"SecurityProfileIds": security_profile_ids});
        self.update(
            "UpdateUserSecurityProfiles",
            Method::POST,
            &["users", instance_id, user_id, "security-profiles"],
            Some(&body),
        )
        .await
    }

    pub async fn update_routing_profile(
        &self,
        instance_id: &str,
        user_id: &str,
        routing_profile_id: &str,
    ) -> Result<(), ConnectError> {
        check_id("instance ID", instance_id)?;
        check_id("user ID", user_id)?;
        let body = json!({"RoutingProfileId": routing_profile_id});
        self.update(
            "UpdateUserRoutingProfile",
            Method::POST,
            &["users", instance_id, user_id, "routing-profile"],
            Some(&body),
        )
        .await
    }

    pub async fn delete_user(&self, instance_id: &str, user_id: &str) -> Result<(), ConnectError> {
        check_id("instance ID", instance_id)?;
        check_id("user ID", user_id)?;
        self.update("DeleteUser", Method::DELETE, &["users", instance_id, user_id], None).await
    }

    /// The IDs of the security profiles `names` (compared case-insensitively), in order, without
    /// repeats.
    pub async fn security_profile_ids(&self, instance_id: &str, names: &[String]) -> Result<Vec<String>, ConnectError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let profiles: Vec<ProfileSummary> = self
            .list_all("ListSecurityProfiles", "security-profiles-summary", instance_id, "SecurityProfileSummaryList")
            .await?;
        let mut ids: Vec<String> = Vec::new();
        for name in names {
            let id = resolve(&profiles, "security profile", instance_id, name)?;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// The ID of the routing profile `name` (compared case-insensitively).
    pub async fn routing_profile_id(&self, instance_id: &str, name: &str) -> Result<String, ConnectError> {
        let profiles: Vec<ProfileSummary> = self
            .list_all("ListRoutingProfiles", "routing-profiles-summary", instance_id, "RoutingProfileSummaryList")
            .await?;
        resolve(&profiles, "routing profile", instance_id, name)
    }
}

/// The profile called `name`: an exact match first, else the only case-insensitive one.
fn resolve(
    profiles: &[ProfileSummary],
    kind: &'static str,
    instance_id: &str,
    name: &str,
) -> Result<String, ConnectError> {
    let wanted = name.trim();
    let exact = profiles.iter().find(|p| p.name == wanted);
    let folded = || {
        let mut matches = profiles.iter().filter(|p| p.name.eq_ignore_ascii_case(wanted));
        match (matches.next(), matches.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        }
    };
    exact.or_else(folded).map(|p| p.id.clone()).ok_or_else(|| {
        let mut available: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
        available.sort_by_key(|n| n.to_lowercase());
        ConnectError::UnknownProfile { kind, instance_id: instance_id.to_string(), name: name.to_string(), available }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> ConnectClient {
        ConnectClient::new(
            ConnectEndpoint {
                base_url: base.into(),
                region: "us-east-1".into(),
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            },
            Clock::system(),
        )
        .unwrap()
    }

    #[test]
    fn signed_calls_verify_and_encode_path_segments() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let c = client("https://connect.us-east-1.amazonaws.com/");
        let body = json!({"IdentityInfo": {"FirstName": "Zoë"}});
        let call = c
            .sign_call(
                Method::POST,
                &["users", "inst/1", "a b+c", "identity-info"],
                &[("nextToken", "x/y+z=")],
                Some(&body),
                now,
            )
            .unwrap();
        assert_eq!(call.url.path(), "/users/inst%2F1/a%20b%2Bc/identity-info");
        assert_eq!(call.url.query(), Some("nextToken=x%2Fy%2Bz%3D"));
        let header = |n: &str| call.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(header("host").as_deref(), Some("connect.us-east-1.amazonaws.com"));
        assert_eq!(header("x-amz-date").as_deref(), Some("20231114T221320Z"));
        let authorization = header("authorization").unwrap();
        assert!(authorization.contains("/20231114/us-east-1/connect/aws4_request"), "{authorization}");
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date,"), "{authorization}");

        let body_sha256 = crossfed_sigv4::hex_sha256(&call.body);
        let request = crossfed_sigv4::Request {
            method: "POST",
            path: call.url.path(),
            query: call.url.query().unwrap_or(""),
            headers: &call.headers,
            body_sha256: &body_sha256,
        };
        let verified = crossfed_sigv4::verify(
            &request,
            |_| Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            "connect",
            "us-east-1",
            now.unix_timestamp(),
        )
        .unwrap();
        assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
    }

    #[test]
    fn host_keeps_a_non_default_port_and_bodiless_calls_sign_no_content_type() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let call =
            client("http://127.0.0.1:8443").sign_call(Method::GET, &["users-summary", "i"], &[], None, now).unwrap();
        assert!(call.headers.contains(&("host".to_string(), "127.0.0.1:8443".to_string())));
        assert!(call.body.is_empty());
        let authorization = &call.headers.iter().find(|(k, _)| k == "authorization").unwrap().1;
        assert!(authorization.contains("SignedHeaders=host;x-amz-date,"), "{authorization}");
        let call = client("https://example.com:443").sign_call(Method::GET, &["x"], &[], None, now).unwrap();
        assert!(call.headers.contains(&("host".to_string(), "example.com".to_string())));
    }

    #[test]
    fn error_codes_from_header_or_body() {
        let body = json!({"message": "slow down"});
        assert_eq!(
            error_code(Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/"), &body)
                .as_deref(),
            Some("ThrottlingException")
        );
        let body = json!({"__type": "com.amazonaws.connect#DuplicateResourceException", "Message": "exists"});
        assert_eq!(error_code(None, &body).as_deref(), Some("DuplicateResourceException"));
        assert_eq!(error_message(&body), "exists");
        assert_eq!(error_code(None, &json!({})), None);
    }

    #[test]
    fn errors_read_well_and_say_whether_to_retry() {
        let duplicate = ConnectError::Service {
            operation: "CreateUser",
            status: 409,
            code: "DuplicateResourceException".into(),
            message: "User bob already exists in instance i-1".into(),
        };
        assert_eq!(
            duplicate.to_string(),
            "Amazon Connect refused CreateUser: DuplicateResourceException: User bob already exists in instance i-1"
        );
        assert!(!duplicate.is_retryable());
        let throttled = ConnectError::Service {
            operation: "ListUsers",
            status: 400,
            code: "ThrottlingException".into(),
            message: String::new(),
        };
        assert_eq!(throttled.to_string(), "Amazon Connect refused ListUsers: ThrottlingException");
        assert!(throttled.is_retryable());
        let internal = ConnectError::Service {
            operation: "DeleteUser",
            status: 500,
            code: "InternalServiceException".into(),
            message: "oops".into(),
        };
        assert!(internal.to_string().starts_with("Amazon Connect failed DeleteUser"));
        assert!(internal.is_retryable());
    }

    #[test]
    fn profile_names_resolve_case_insensitively_or_list_the_choices() {
        let profiles = vec![
            ProfileSummary { id: "1".into(), name: "Agent".into() },
            ProfileSummary { id: "2".into(), name: "Admin".into() },
        ];
        assert_eq!(resolve(&profiles, "security profile", "i", "agent").unwrap(), "1");
        let e = resolve(&profiles, "security profile", "i", "Agnet").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Amazon Connect instance i has no security profile named \"Agnet\"; it has: Admin, Agent"
        );
    }

    #[test]
    fn unusable_endpoints_and_ids_are_refused_before_sending() {
        let endpoint = |base: &str| ConnectEndpoint {
            base_url: base.into(),
            region: "us-east-1".into(),
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
        };
        assert!(matches!(ConnectClient::new(endpoint("ftp://x"), Clock::system()), Err(ConnectError::Invalid(_))));
        assert!(matches!(ConnectClient::new(endpoint("not a url"), Clock::system()), Err(ConnectError::Invalid(_))));
        assert!(format!("{:?}", endpoint("https://x")).contains("<redacted>"));
        assert!(matches!(check_id("user ID", ".."), Err(ConnectError::Invalid(_))));
    }
}
