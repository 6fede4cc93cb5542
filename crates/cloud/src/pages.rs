//! The few HTML pages of the emulated console: role picker, agent workspace, and the error
//! pages that say what is wrong and how to fix it.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crossfed_saml::bindings::html_escape as escape;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f2f3f3;color:#16191f}\
header{background:#232f3e;color:#fff;padding:12px 24px;font-weight:600}\
main{max-width:760px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:22px}.error h1{color:#d13212}.fix{background:#f1faff;border-left:4px solid #0073bb;padding:8px 12px}\
code{background:#eee;padding:1px 4px;border-radius:3px}label{display:block;margin:8px 0}button{background:#ec7211;color:#fff;border:0;padding:8px 16px;border-radius:4px;font-size:15px}\
dl{display:grid;grid-template-columns:max-content auto;gap:6px 16px}dt{font-weight:600}";

/// A complete page with the headers every console page carries.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - crossfed target account</title><style>{STYLE}</style></head>\
<body><header>crossfed target account (AWS emulation)</header><main>{body_html}</main></body></html>\n",
        escape(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// An error page: what went wrong, and what to do about it.
pub fn error_page(status: StatusCode, title: &str, message: &str, fix: &str) -> Response {
    let body = format!(
        "<div class=\"error\"><h1>{}</h1><p id=\"message\">{}</p><p class=\"fix\">{}</p></div>",
        escape(title),
        escape(message),
        escape(fix)
    );
    page(status, title, &body)
}
