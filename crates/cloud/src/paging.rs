//! Pages of Connect's List operations, as the service returns them: at most `maxResults` items
//! (each operation has its own default and ceiling) and a `NextToken` while more remain. Clients
//! treat the token as opaque; here it carries the sort key of the last item returned, so the next
//! page starts after that item even when items were added or deleted in between.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::AwsError;

/// How many items a List operation returns by default and at most, and what it calls a bad
/// parameter.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default: usize,
    pub most: usize,
    pub error_code: &'static str,
}

/// ListInstances: 10 at most.
pub const INSTANCES: PageLimits = PageLimits { default: 10, most: 10, error_code: "InvalidRequestException" };
/// ListUsers, ListSecurityProfiles, ListRoutingProfiles: 100 by default, 1000 at most.
pub const SUMMARIES: PageLimits = PageLimits { default: 100, most: 1000, error_code: "InvalidParameterException" };

/// Which page a call asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    size: usize,
    after: Option<String>,
}

impl PageRequest {
    /// Reads `maxResults` and `nextToken` from a request's query string.
    pub fn from_query(query: &str, limits: PageLimits) -> Result<PageRequest, AwsError> {
        let invalid = |message: String| AwsError::new(limits.error_code, 400, message);
        let mut request = PageRequest { size: limits.default, after: None };
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "maxResults" => {
                    request.size =
                        value.parse::<usize>().ok().filter(|n| (1..=limits.most).contains(n)).ok_or_else(|| {
                            invalid(format!("maxResults {value:?} must be a whole number from 1 to {}", limits.most))
                        })?;
                }
                "nextToken" => {
                    let key = URL_SAFE_NO_PAD.decode(value.as_bytes()).ok().and_then(|b| String::from_utf8(b).ok());
                    request.after = Some(key.ok_or_else(|| {
                        invalid("nextToken is not one this API returned; start again without it".to_string())
                    })?);
                }
                _ => {}
            }
        }
        Ok(request)
    }

    /// This request's page of `items`, given with their unique sort keys, and the token for the
    /// next page when items remain.
    pub fn page<T>(&self, mut items: Vec<(String, T)>) -> (Vec<T>, Option<String>) {
        // Byte order, whatever order the database's collation gave.
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut rest = items.into_iter().filter(|(key, _)| self.after.as_ref().is_none_or(|after| key > after));
        let page: Vec<(String, T)> = rest.by_ref().take(self.size).collect();
        let next = match rest.next() {
            Some(_) => page.last().map(|(key, _)| URL_SAFE_NO_PAD.encode(key.as_bytes())),
            None => None,
        };
        (page.into_iter().map(|(_, item)| item).collect(), next)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn keyed(keys: &[&str]) -> Vec<(String, String)> {
        keys.iter().map(|k| (k.to_string(), k.to_uppercase())).collect()
    }

    #[test]
    fn pages_follow_one_another_until_the_last_has_no_token() {
        let all = keyed(&["d", "a", "c", "b", "e"]);
        let first = PageRequest::from_query("maxResults=2", SUMMARIES).unwrap();
        let (items, token) = first.page(all.clone());
        assert_eq!(items, ["A", "B"]);
        let token = token.unwrap();
        let second = PageRequest::from_query(&format!("maxResults=2&nextToken={token}"), SUMMARIES).unwrap();
        let (items, token) = second.page(all.clone());
        assert_eq!(items, ["C", "D"]);
        // An item deleted in between does not shift the next page.
        let without_c = keyed(&["a", "b", "d", "e"]);
        let third = PageRequest::from_query(&format!("maxResults=2&nextToken={}", token.unwrap()), SUMMARIES).unwrap();
        assert_eq!(third.page(without_c), (vec!["E".to_string()], None));
        // Exactly a page: no token.
        assert_eq!(PageRequest::from_query("maxResults=5", SUMMARIES).unwrap().page(all).1, None);
    }

    #[test]
    fn defaults_ceilings_and_bad_parameters() {
        let many: Vec<(String, usize)> = (0..150).map(|i| (format!("{i:03}"), i)).collect();
        assert_eq!(PageRequest::from_query("", SUMMARIES).unwrap().page(many.clone()).0.len(), 100);
        assert_eq!(PageRequest::from_query("", INSTANCES).unwrap().page(many).0.len(), 10);
        for query in ["maxResults=0", "maxResults=1001", "maxResults=ten", "nextToken=%21%21"] {
            let e = PageRequest::from_query(query, SUMMARIES).unwrap_err();
            assert_eq!(e.code, "InvalidParameterException", "{query}");
        }
        assert_eq!(PageRequest::from_query("maxResults=11", INSTANCES).unwrap_err().code, "InvalidRequestException");
    }
}
