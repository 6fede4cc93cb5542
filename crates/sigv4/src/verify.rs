//! Verifying a signed request: parse the Authorization header, check the scope and the clock,
//! recompute the signature with the caller's secret, compare in constant time.

use crate::canonical::{Request, canonical_request, signature_bytes, signing_key, string_to_sign};
use crate::error::SigV4Error;

/// AWS refuses requests signed more than 15 minutes away from its clock.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 15 * 60;

/// A parsed `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: Vec<u8>,
}

/// A request whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::Incomplete(message.into())
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

pub fn parse_authorization(header: &str) -> Result<Authorization, SigV4Error> {
    let rest = header
        .trim()
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(|| incomplete("the algorithm must be AWS4-HMAC-SHA256"))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, value) =
            part.trim().split_once('=').ok_or_else(|| incomplete(format!("{part:?} is not KEY=VALUE")))?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => return Err(incomplete(format!("unknown component {other}"))),
        };
        if slot.replace(value).is_some() {
            return Err(incomplete(format!("{key} appears twice")));
        }
    }
    let credential = credential.ok_or_else(|| incomplete("Credential is missing"))?;
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(incomplete("Credential must be KEY/DATE/REGION/SERVICE/aws4_request"));
    };
    if *terminator != "aws4_request" || date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete("Credential must be KEY/YYYYMMDD/REGION/SERVICE/aws4_request"));
    }
    let signed_headers: Vec<String> = signed_headers
        .ok_or_else(|| incomplete("SignedHeaders is missing"))?
        .split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_string)
        .collect();
    let signature = signature
        .and_then(decode_hex)
        .filter(|s| s.len() == 32)
        .ok_or_else(|| incomplete("Signature must be 64 hex digits"))?;
    Ok(Authorization {
        access_key_id: access_key_id.to_string(),
        date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature,
    })
}

/// Parses `YYYYMMDDTHHMMSSZ` into Unix seconds.
pub fn amz_date_to_unix(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<i64>().ok());
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Verifies `request`. `secret_for` returns the secret of an access key ID (None if unknown);
/// `service` is the service this endpoint is, `region` the region it serves.
pub fn verify(
    request: &Request<'_>,
    secret_for: impl FnOnce(&str) -> Option<String>,
    service: &str,
    region: &str,
    now: i64,
) -> Result<Verified, SigV4Error> {
    let header =
        |name: &str| request.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let authorization = parse_authorization(header("authorization").ok_or(SigV4Error::Missing)?)?;
    if !authorization.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::HostNotSigned);
    }
    let amz_date = header("x-amz-date").ok_or(SigV4Error::BadDate)?;
    let signed_at = amz_date_to_unix(amz_date).ok_or(SigV4Error::BadDate)?;
    if amz_date.get(..8) != Some(authorization.date.as_str()) {
        return Err(SigV4Error::WrongScope {
            expected: amz_date.get(..8).unwrap_or("").to_string(),
            found: authorization.date,
        });
    }
    if authorization.service != service || authorization.region != region {
        return Err(SigV4Error::WrongScope {
            expected: format!("{region}/{service}"),
            found: format!("{}/{}", authorization.region, authorization.service),
        });
    }
    if (now - signed_at).abs() > MAX_CLOCK_SKEW_SECONDS {
        return Err(SigV4Error::Expired {
            signed_at: amz_date.to_string(),
            now,
            max_skew_seconds: MAX_CLOCK_SKEW_SECONDS,
        });
    }
    let secret = secret_for(&authorization.access_key_id)
        .ok_or_else(|| SigV4Error::UnknownAccessKey(authorization.access_key_id.clone()))?;
    let canonical = canonical_request(request, &authorization.signed_headers)?;
    let scope = format!("{}/{region}/{service}/aws4_request", authorization.date);
    let to_sign = string_to_sign(amz_date, &scope, &canonical);
    let expected = signature_bytes(&signing_key(&secret, &authorization.date, region, service), &to_sign);
    if aws_lc_rs::constant_time::verify_slices_are_equal(&expected, &authorization.signature).is_err() {
        return Err(SigV4Error::Mismatch);
    }
    Ok(Verified {
        access_key_id: authorization.access_key_id,
        region: authorization.region,
        service: authorization.service,
    })
}
