//! The few HTML pages of the emulated console: role picker, agent workspace, and the error
//! pages that say what is wrong and how to fix it.

use axum::http::StatusCode;
use axum::response::Response;
pub use crossfed_web::escape;
use crossfed_web::{FormTargets, html};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f2f3f3;color:#16191f}\
header{background:#232f3e;color:#fff;padding:12px 24px;font-weight:600}\
main{max-width:760px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;box-shadow:0 1px 3px #0002}\
h1{font-size:22px}.error h1{color:#d13212}.fix{background:#f1faff;border-left:4px solid #0073bb;padding:8px 12px}\
code{background:#eee;padding:1px 4px;border-radius:3px}label{display:block;margin:8px 0}button{background:#ec7211;color:#fff;border:0;padding:8px 16px;border-radius:4px;font-size:15px}\
dl{display:grid;grid-template-columns:max-content auto;gap:6px 16px}dt{font-weight:600}";

/// A complete page with the headers every console page carries.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let document = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} - crossfed target account</title><style>{STYLE}</style></head>\
<body><header>crossfed target account (AWS emulation)</header><main>{body_html}</main></body></html>\n",
        escape(title)
    );
    html(status, document, None, FormTargets::SameOrigin)
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
