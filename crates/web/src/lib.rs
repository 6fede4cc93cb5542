//! What crossfed's web listeners (the hub and the emulated account) share: HTML pages carrying
//! the security headers every page needs, cookies, and redirects.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and attribute values.
pub use crossfed_saml::html_escape as escape;

/// Where a page's forms may post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormTargets {
    SameOrigin,
    /// SAML POST-binding pages post to another party's endpoint.
    Anywhere,
}

/// The headers of every HTML page: no framing, no inline script unless `script_nonce` allows
/// one, no caching (pages carry sessions and SAML messages), no MIME sniffing, no referrer.
pub fn secure_headers(headers: &mut HeaderMap, script_nonce: Option<&str>, forms: FormTargets) {
    // A page's own script may read the site (the console's live preview fetches it).
    let script = script_nonce.map(|n| format!(" script-src 'nonce-{n}'; connect-src 'self';")).unwrap_or_default();
    let form_action = match forms {
        FormTargets::SameOrigin => "'self'",
        FormTargets::Anywhere => "*",
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline';{script} form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A complete HTML document.
pub fn html(status: StatusCode, document: String, script_nonce: Option<&str>, forms: FormTargets) -> Response {
    let mut response = (status, document).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    secure_headers(headers, script_nonce, forms);
    response
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure unless the listener is plain
/// HTTP; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"))
        .ok()
}

/// `303 See Other` to `location`, setting `cookies`.
pub fn see_other(location: &str, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The most request headers the web listeners accept, and their total size (names and values):
/// generous for browsers' cookies, small enough that no handler ever sees a flood.
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Middleware refusing a request with too many or too large headers (431) before any handler
/// runs.
pub async fn limit_headers(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let headers = request.headers();
    let size: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || size > MAX_HEADER_BYTES {
        let message = format!(
            "The request's headers are too large ({} headers, {size} bytes; at most {MAX_HEADERS} and {MAX_HEADER_BYTES} bytes). Clear this site's cookies and try again.",
            headers.len()
        );
        return (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, message).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_escaping() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; session=abc; b=2"));
        assert_eq!(cookie(&headers, "session"), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        let set = set_cookie("s", "v", "/", 60, true).unwrap();
        assert_eq!(set, "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
