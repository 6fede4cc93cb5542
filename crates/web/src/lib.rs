//! What crossfed's web listeners (the hub and the emulated account) share: HTML pages carrying
//! the security headers every page needs — rendered from compile-time askama templates, escaped
//! by default, in one page shell (`templates/layout.html`) that the hub's and the account's
//! templates extend — the auto-posting form of the SAML POST binding, cookies, redirects, and the
//! request limits and refusals every listener applies ([`guarded`]).

pub mod client;
pub mod forwarded;
pub mod health;
pub mod log;
pub mod metrics;
mod refusal;
pub mod serving;
pub mod tls;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use refusal::{
    Guard, MAX_HEADER_BYTES, MAX_HEADERS, MAX_URI_BYTES, Refusal, guard, guarded, media_type, media_type_is,
};

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

/// The HSTS header of a listener reached over HTTPS: browsers go on using HTTPS for a year.
/// Without `includeSubDomains`: the hub's name does not decide for its sibling hosts, which an
/// operator adds (or preloads) at the domain's apex.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// `app`, answering with [`STRICT_TRANSPORT_SECURITY`] when its `public_url` is HTTPS — also when
/// a proxy terminates TLS, since the browser sees HTTPS.
pub fn strict_transport(app: axum::Router, public_url: &str) -> axum::Router {
    if !public_url.starts_with("https://") {
        return app;
    }
    app.layer(axum::middleware::map_response(|mut response: Response| async move {
        response
            .headers_mut()
            .insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
        response
    }))
}

/// A complete HTML document.
pub fn html(status: StatusCode, document: String, script_nonce: Option<&str>, forms: FormTargets) -> Response {
    let mut response = (status, document).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    secure_headers(headers, script_nonce, forms);
    response
}

/// A page rendered from `template`: a template that cannot render (a value's `Display` failed)
/// is a 500 that says so, never a partial page.
pub fn render(
    status: StatusCode,
    template: &impl Template,
    script_nonce: Option<&str>,
    forms: FormTargets,
) -> Response {
    match template.render() {
        Ok(document) => html(status, document, script_nonce, forms),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("the page could not be rendered: {e}")).into_response(),
    }
}

/// A page whose form posts `fields` to `action` at once: submitted by a script (the page's nonce
/// allows it) or by the person when scripts are off.
#[derive(Template)]
#[template(path = "auto_post.html")]
struct AutoPost<'a> {
    title: &'a str,
    action: &'a str,
    fields: Vec<(&'a str, String)>,
    nonce: &'a str,
}

impl<'a> AutoPost<'a> {
    /// The SAML POST binding's form: the base64 message `xml` as `parameter` (`SAMLResponse` or
    /// `SAMLRequest`), with `relay_state`.
    fn saml(action: &'a str, parameter: &'a str, xml: &str, relay_state: Option<&'a str>, nonce: &'a str) -> Self {
        use base64::Engine;
        let mut fields = vec![(parameter, base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()))];
        fields.extend(relay_state.map(|relay| ("RelayState", relay.to_string())));
        AutoPost { title: "Signing in", action, fields, nonce }
    }
}

/// The page that posts the SAML message `xml` (its parameter named `parameter`) to `action`,
/// with `relay_state`; its forms may post anywhere, since `action` is another party's.
pub fn saml_post(action: &str, parameter: &str, xml: &str, relay_state: Option<&str>, nonce: &str) -> Response {
    render(
        StatusCode::OK,
        &AutoPost::saml(action, parameter, xml, relay_state, nonce),
        Some(nonce),
        FormTargets::Anywhere,
    )
}

/// The document [`saml_post`] answers with, for a client that reads it as a browser would.
pub fn saml_post_document(
    action: &str,
    parameter: &str,
    xml: &str,
    relay_state: Option<&str>,
    nonce: &str,
) -> Result<String, askama::Error> {
    AutoPost::saml(action, parameter, xml, relay_state, nonce).render()
}

/// A page that posts `fields` again to `action` on this site: a cross-site POST carries no
/// SameSite=Lax cookie, the same form posted from the site's own page does.
pub fn repost_here(action: &str, fields: &[(&str, &str)], nonce: &str) -> Response {
    let fields = fields.iter().map(|(name, value)| (*name, (*value).to_string())).collect();
    let page = AutoPost { title: "Signing in", action, fields, nonce };
    render(StatusCode::OK, &page, Some(nonce), FormTargets::SameOrigin)
}

/// A page that sends the browser on to `url` (another site) by navigating, not by a form's
/// redirect, which the page that held the form would need to allow in its `form-action`.
#[derive(Template)]
#[template(path = "continue.html")]
struct ContinueTo<'a> {
    title: &'a str,
    message: &'a str,
    url: &'a str,
    nonce: &'a str,
}

/// [`ContinueTo`]: says `message` with a link to `url` that a script follows at once.
pub fn continue_to(title: &str, message: &str, url: &str, nonce: &str) -> Response {
    render(StatusCode::OK, &ContinueTo { title, message, url, nonce }, Some(nonce), FormTargets::SameOrigin)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_saml_post_page_escapes_the_action_and_relay_state() {
        let page = AutoPost::saml(
            "https://sp.example.com/acs?a=1&b=\"x\"",
            "SAMLResponse",
            "<x>",
            Some("<script>alert(1)</script>"),
            "n0nce",
        )
        .render()
        .unwrap();
        assert!(page.contains("action=\"https://sp.example.com/acs?a=1&#38;b=&#34;x&#34;\""), "{page}");
        assert!(page.contains("value=\"&#60;script&#62;alert(1)&#60;/script&#62;\""), "{page}");
        assert!(page.contains("<script nonce=\"n0nce\">document.forms[0].submit();</script>"), "{page}");
        assert!(page.contains("name=\"SAMLResponse\" value=\"PHg+\""), "{page}");
    }

    #[test]
    fn the_continue_page_links_to_the_url_and_follows_it_by_script() {
        let page =
            ContinueTo { title: "Signing out", message: "Ending <b>", url: "https://idp/slo?a=1&b=2", nonce: "n" }
                .render()
                .unwrap();
        assert!(page.contains("Ending &#60;b&#62;"), "{page}");
        assert!(page.contains("<a id=\"next\" href=\"https://idp/slo?a=1&#38;b=2\">"), "{page}");
        assert!(page.contains("<script nonce=\"n\">location.replace("), "{page}");
    }

    #[test]
    fn cookies_are_read_and_written() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; session=abc; b=2"));
        assert_eq!(cookie(&headers, "session"), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        let set = set_cookie("s", "v", "/", 60, true).unwrap();
        assert_eq!(set, "s=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
    }
}
