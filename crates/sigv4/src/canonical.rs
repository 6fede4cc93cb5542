//! Canonical request, string to sign and signing key, as the SigV4 specification builds them.

use aws_lc_rs::{digest, hmac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// SHA-256 of the empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Everything but the RFC 3986 unreserved characters is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// The same, keeping '/' in paths.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// A received or outgoing request, as signing sees it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as it appears on the wire (percent-encoded by the client).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    /// Header names and values as received; names may repeat.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body.
    pub body_sha256: &'a str,
}

/// The canonical request and the headers it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    pub text: String,
    pub signed_headers: String,
}

pub fn hex_sha256(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Removes `.` and `..` segments and empty segments, keeping a trailing slash (RFC 3986 §5.2.4
/// as the SigV4 test suite applies it to non-S3 services).
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = (path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..")) && !segments.is_empty();
    let mut out = String::from("/");
    out.push_str(&segments.join("/"));
    if trailing {
        out.push('/');
    }
    out
}

/// The query string with names and values decoded, re-encoded strictly and sorted.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_decode_str(&s.replace('+', "%20")).decode_utf8_lossy().into_owned();
            (
                utf8_percent_encode(&decode(k), UNRESERVED).to_string(),
                utf8_percent_encode(&decode(v), UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Trims a header value and collapses runs of spaces.
fn canonical_header_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Builds the canonical request over the headers named in `signed_headers` (lower-case).
pub fn canonical_request(
    request: &Request<'_>,
    signed_headers: &[String],
) -> Result<CanonicalRequest, crate::SigV4Error> {
    let mut names: Vec<String> = signed_headers.iter().map(|h| h.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    let mut headers = String::new();
    for name in &names {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| canonical_header_value(v))
            .collect();
        if values.is_empty() {
            return Err(crate::SigV4Error::SignedHeaderMissing(name.clone()));
        }
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    let signed = names.join(";");
    let path = utf8_percent_encode(&normalize_path(request.path), PATH).to_string();
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method.to_ascii_uppercase(),
        path,
        canonical_query(request.query),
        headers,
        signed,
        request.body_sha256
    );
    Ok(CanonicalRequest { text, signed_headers: signed })
}

/// `AWS4-HMAC-SHA256`, the request time, the scope, and the hash of the canonical request.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical: &CanonicalRequest) -> String {
    format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex_sha256(canonical.text.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data).as_ref().to_vec()
}

/// The key derived from the secret for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Signs `request` and returns the Authorization header value. `amz_date` is the X-Amz-Date
/// header (which must be among the request's headers if listed in `signed_headers`).
pub fn sign(
    request: &Request<'_>,
    signed_headers: &[String],
    access_key_id: &str,
    secret: &str,
    amz_date: &str,
    region: &str,
    service: &str,
) -> Result<String, crate::SigV4Error> {
    let date = amz_date.get(..8).ok_or(crate::SigV4Error::BadDate)?;
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let canonical = canonical_request(request, signed_headers)?;
    let to_sign = string_to_sign(amz_date, &scope, &canonical);
    let signature = hex(&hmac_sha256(&signing_key(secret, date, region, service), to_sign.as_bytes()));
    Ok(format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
        canonical.signed_headers
    ))
}

pub(crate) fn signature_bytes(key: &[u8], to_sign: &str) -> Vec<u8> {
    hmac_sha256(key, to_sign.as_bytes())
}
