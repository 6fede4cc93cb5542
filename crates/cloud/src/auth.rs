//! Who is calling: SigV4 verification of a request against the administrator's keys and the
//! temporary credentials STS issued, with the session token and expiry checked.

use crossfed_sigv4::{Request, SigV4Error, hex_sha256, parse_authorization, verify};
use crossfed_store::ObjectStore;

use crate::error::AwsError;
use crate::model::{Credentials, kind};
use crate::state::{Resources, Settings};

/// The parts of an HTTP request SigV4 covers.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

/// What a service calls its errors: the codes differ between the query APIs and Connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Query,
    RestJson,
}

fn auth_error(e: SigV4Error, dialect: Dialect) -> AwsError {
    let code = match (&e, dialect) {
        (SigV4Error::Missing, Dialect::Query) => "MissingAuthenticationToken",
        (SigV4Error::Missing, Dialect::RestJson) => "MissingAuthenticationTokenException",
        (
            SigV4Error::Incomplete(_)
            | SigV4Error::BadDate
            | SigV4Error::HostNotSigned
            | SigV4Error::SignedHeaderMissing(_),
            _,
        ) => "IncompleteSignature",
        (SigV4Error::UnknownAccessKey(_), Dialect::Query) => "InvalidClientTokenId",
        (SigV4Error::UnknownAccessKey(_), Dialect::RestJson) => "UnrecognizedClientException",
        (SigV4Error::WrongScope { .. } | SigV4Error::Mismatch, Dialect::Query) => "SignatureDoesNotMatch",
        (SigV4Error::WrongScope { .. } | SigV4Error::Mismatch, Dialect::RestJson) => "InvalidSignatureException",
        (SigV4Error::Expired { .. }, Dialect::Query) => "RequestExpired",
        (SigV4Error::Expired { .. }, Dialect::RestJson) => "InvalidSignatureException",
    };
    AwsError::new(code, 403, e.to_string())
}

/// Verifies the request's signature for `service` and returns the caller's credentials.
pub async fn authenticate(
    resources: &Resources,
    settings: &Settings,
    administrator: &Credentials,
    request: &SignedRequest<'_>,
    service: &str,
    dialect: Dialect,
    now: i64,
) -> Result<Credentials, AwsError> {
    // IAM is a global service: clients sign it for us-east-1 whatever region they use.
    let region = if service == "iam" { "us-east-1" } else { settings.region.as_str() };
    let header =
        |name: &str| request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let authorization = header("authorization").ok_or_else(|| auth_error(SigV4Error::Missing, dialect))?;
    let parsed = parse_authorization(&authorization).map_err(|e| auth_error(e, dialect))?;
    let credentials = if parsed.access_key_id == administrator.access_key_id {
        administrator.clone()
    } else {
        match resources.store.get_object(kind::CREDENTIALS, &parsed.access_key_id).await? {
            Some(o) => serde_json::from_str::<Credentials>(&o.body)
                .map_err(|e| AwsError::new("InternalFailure", 500, format!("stored credentials unreadable: {e}")))?,
            None => return Err(auth_error(SigV4Error::UnknownAccessKey(parsed.access_key_id), dialect)),
        }
    };
    let body_sha256 = hex_sha256(request.body);
    let signed = Request {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: &request.headers,
        body_sha256: &body_sha256,
    };
    let secret = credentials.secret_access_key.clone();
    verify(&signed, |_| Some(secret), service, region, now).map_err(|e| auth_error(e, dialect))?;

    // Temporary credentials are only valid with their session token, and only until they expire.
    if let Some(token) = &credentials.session_token
        && header("x-amz-security-token").as_deref() != Some(token.as_str())
    {
        let code = if dialect == Dialect::Query { "InvalidClientTokenId" } else { "UnrecognizedClientException" };
        return Err(AwsError::new(code, 403, "The security token included in the request is invalid"));
    }
    if let Some(expiration) = credentials.expiration
        && now >= expiration
    {
        let code = if dialect == Dialect::Query { "ExpiredToken" } else { "ExpiredTokenException" };
        return Err(AwsError::new(code, 403, "The security token included in the request is expired"));
    }
    Ok(credentials)
}
