//! The admin API's query strings: read as the route's parameters ([`ApiQuery`]: an unknown or
//! repeated parameter is a 400 naming it), and each number checked against its range, never
//! clamped: a bad value is a 400 naming the parameter, what it was and the values it takes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use crossfed_store::{AuditQuery, Page};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::web::error::ApiError;

/// Most users or groups one page lists, and how many when `limit` is left out.
pub const MAX_PAGE: i64 = 1000;
pub const DEFAULT_PAGE: i64 = 100;
/// Most audit records one answer holds, and how many when `limit` is left out.
pub const MAX_AUDIT: i64 = 10_000;
pub const DEFAULT_AUDIT: i64 = 100;

/// The query string read as `T`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::bad_request(format!("the query string: {e}")))
    }
}

/// A query parameter outside what its route takes.
#[derive(Debug, thiserror::Error)]
#[error("the query parameter {name} is {found:?}; give {expected}")]
pub struct BadParam {
    name: &'static str,
    found: String,
    expected: String,
}

impl From<BadParam> for ApiError {
    fn from(e: BadParam) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// The whole number `value` of parameter `name`, from `min` to `max`; `default` when absent.
fn number(name: &'static str, value: Option<&str>, min: i64, max: i64, default: i64) -> Result<i64, BadParam> {
    let Some(text) = value else { return Ok(default) };
    match text.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => {
            let range = if max == i64::MAX { format!("from {min} up") } else { format!("from {min} to {max}") };
            Err(BadParam {
                name,
                found: text.to_string(),
                expected: format!("a whole number {range}, or leave it out for {default}"),
            })
        }
    }
}

/// `GET /api/v1/users` and `/groups`: `offset` (0 up) and `limit` (1 to [`MAX_PAGE`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    offset: Option<String>,
    limit: Option<String>,
}

impl Paging {
    pub fn page(&self) -> Result<Page, BadParam> {
        let offset = number("offset", self.offset.as_deref(), 0, i64::MAX, 0)?;
        let limit = number("limit", self.limit.as_deref(), 1, MAX_PAGE, DEFAULT_PAGE)?;
        Ok(Page { offset, limit })
    }
}

/// `GET /api/v1/audit`: `actor`, `action`, `since` and `until` (Unix seconds), `limit` (1 to
/// [`MAX_AUDIT`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    actor: Option<String>,
    /// An action, or `family.*` for every action starting with `family.`.
    action: Option<String>,
    /// The client address the records came from.
    source: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
}

impl AuditFilter {
    pub fn query(self) -> Result<AuditQuery, BadParam> {
        let since = self.since.as_deref().map(|t| number("since", Some(t), 0, i64::MAX, 0)).transpose()?;
        let until = self.until.as_deref().map(|t| number("until", Some(t), 0, i64::MAX, 0)).transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(BadParam {
                name: "until",
                found: until.to_string(),
                expected: format!("a time at or after since ({since})"),
            });
        }
        let limit = number("limit", self.limit.as_deref(), 1, MAX_AUDIT, DEFAULT_AUDIT)?;
        Ok(AuditQuery { actor: self.actor, action: self.action, source: self.source, since, until, limit: Some(limit) })
    }
}

/// `GET /api/v1/provisioning` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningFilter {
    pub connector: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn paging(query: &str) -> Result<Page, String> {
        serde_urlencoded::from_str::<Paging>(query).unwrap().page().map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_are_checked_not_clamped() {
        assert_eq!(paging("").unwrap(), Page { offset: 0, limit: 100 });
        assert_eq!(paging("offset=5&limit=1000").unwrap(), Page { offset: 5, limit: 1000 });
        assert_eq!(
            paging("limit=-1").unwrap_err(),
            "the query parameter limit is \"-1\"; give a whole number from 1 to 1000, or leave it out for 100"
        );
        assert!(paging("limit=1001").unwrap_err().contains("from 1 to 1000"));
        assert!(paging("limit=ten").unwrap_err().contains("\"ten\""));
        assert_eq!(
            paging("offset=-3").unwrap_err(),
            "the query parameter offset is \"-3\"; give a whole number from 0 up, or leave it out for 0"
        );
        let audit = |q: &str| serde_urlencoded::from_str::<AuditFilter>(q).unwrap().query().map_err(|e| e.to_string());
        assert_eq!(audit("since=10&until=20&limit=5").unwrap().limit, Some(5));
        assert!(audit("since=20&until=10").unwrap_err().contains("at or after since (20)"));
        assert!(audit("limit=0").unwrap_err().contains("from 1 to 10000"));
        assert!(audit("since=yesterday").unwrap_err().contains("since"));
    }
}
