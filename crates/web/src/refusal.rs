//! What a listener answers when a request is refused before or instead of a handler: too many
//! or too large headers (431), a URI too long (414), and the answers axum gives on its own,
//! empty or in plain text — no route (404), a method the route does not take (405), a body too
//! large (413), a content type an extractor does not read (415), a query, path or body that does
//! not deserialize (400, 422). [`guard`] turns each into a [`Refusal`], the status and a message
//! saying what was wrong and how to fix it, and has the listener write it in the error body its
//! surface documents ([`Guard::render`]), keeping `Allow` on a 405. Answers a handler wrote (any
//! with a content type other than plain text) pass untouched.
//!
//! Beyond these, hyper answers before any of this runs, with an empty body: a request line over
//! 64 KiB (414) or a head over its read buffer, about 400 KiB (431).

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The most request headers the web listeners accept, and their total size (names and values):
/// generous for browsers' cookies, small enough that no handler ever sees a flood.
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The longest path and query the web listeners accept: the common limit of proxies and servers
/// (16 KiB), far above what a SAML Redirect-binding message needs; longer queries belong in a
/// body (SCIM's `POST .search`).
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// How much of a plain-text answer the guard reads to quote it.
const QUOTED_BYTES: usize = 4096;

/// A refused request: the status, and what was wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal { status, message: message.into() }
    }

    /// 413 for a body over `limit` bytes.
    pub fn body_too_large(limit: usize) -> Self {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {}, the most this endpoint reads; send less", size(limit)),
        )
    }

    /// 415 for a body whose `Content-Type` is not one of `accepted`.
    pub fn unsupported_media_type(headers: &HeaderMap, accepted: &[&str]) -> Self {
        let found = headers
            .get(header::CONTENT_TYPE)
            .map_or_else(|| "missing".to_string(), |v| format!("{:?}", String::from_utf8_lossy(v.as_bytes())));
        Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the request's Content-Type is {found}; send the body as {}", accepted.join(" or ")),
        )
    }
}

impl Refusal {
    /// The heading of an HTML page showing this refusal.
    pub fn title(&self) -> &'static str {
        match self.status {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::METHOD_NOT_ALLOWED => "Method not allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "Request too large",
            StatusCode::URI_TOO_LONG => "Address too long",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported form",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "Headers too large",
            _ => "Request refused",
        }
    }

    /// The message as a sentence, for a page: a capital first letter and a full stop.
    pub fn sentence(&self) -> String {
        let mut chars = self.message.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
        let rest = chars.as_str();
        if rest.ends_with('.') { format!("{first}{rest}") } else { format!("{first}{rest}.") }
    }
}

/// `bytes` in the unit a person reads it in.
fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The media type of a request's body (`application/json` of `application/json; charset=utf-8`),
/// lower-cased; `None` without a `Content-Type`.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// Whether the body's media type is one of `accepted`.
pub fn media_type_is(headers: &HeaderMap, accepted: &[&str]) -> bool {
    media_type(headers).is_some_and(|m| accepted.contains(&m.as_str()))
}

/// How a listener writes refusals.
#[derive(Clone, Copy)]
pub struct Guard {
    /// Writes a refusal of a request to `path` in the error body of that path's surface.
    pub render: fn(&str, Refusal) -> Response,
    /// The listener's body limit (its `DefaultBodyLimit`), named in 413 answers.
    pub max_body_bytes: usize,
}

/// `app` behind [`guard`]. The guard sits outside the router rather than in one of its layers:
/// axum writes a 405's `Allow` header as the answer leaves the route, after any layer of the
/// router has seen it, and the guard names the allowed methods in its message.
pub fn guarded(app: Router, guard: Guard) -> Router {
    Router::new().fallback_service(app).layer(axum::middleware::from_fn_with_state(guard, self::guard))
}

/// Middleware refusing oversized headers (431) and URIs (414) before any handler runs, and
/// rewriting the answers axum gives without a documented body (see the module documentation).
pub async fn guard(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if let Some(refusal) = oversized(&request) {
        return (guard.render)(&path, refusal);
    }
    let asked = Asked {
        method: request.method().clone(),
        content_type: request.headers().get(header::CONTENT_TYPE).cloned(),
        max_body_bytes: guard.max_body_bytes,
    };
    let response = next.run(request).await;
    if documented(&response) {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let status = response.status();
    let quoted = quote(response).await;
    let mut answer = (guard.render)(&path, explain(status, &path, &asked, allow.as_ref(), &quoted));
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

/// 431 or 414 for a request whose head is too large.
fn oversized(request: &Request) -> Option<Refusal> {
    let headers = request.headers();
    let size: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || size > MAX_HEADER_BYTES {
        return Some(Refusal::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's headers are too large ({} headers, {size} bytes; at most {MAX_HEADERS} headers and \
                 {MAX_HEADER_BYTES} bytes); clear this site's cookies and try again",
                headers.len()
            ),
        ));
    }
    let uri = request.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    (uri > MAX_URI_BYTES).then(|| {
        Refusal::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "the request's URI is {uri} bytes long; at most {MAX_URI_BYTES} are read, so send long parameters \
                 in the request body instead"
            ),
        )
    })
}

/// What the guard keeps of the request to explain axum's answer to it.
struct Asked {
    method: Method,
    content_type: Option<HeaderValue>,
    max_body_bytes: usize,
}

/// Whether a handler wrote this answer: a success, or an error with a content type of its own.
fn documented(response: &Response) -> bool {
    if !response.status().is_client_error() && !response.status().is_server_error() {
        return true;
    }
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.to_ascii_lowercase().starts_with("text/plain"))
}

/// The text of axum's answer, trimmed and shortened.
async fn quote(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), QUOTED_BYTES).await.unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// The refusal an undocumented answer stands for. A body that does not deserialize (axum's 422)
/// is a 400: the request is at fault, as with any other bad input.
fn explain(status: StatusCode, path: &str, asked: &Asked, allow: Option<&HeaderValue>, quoted: &str) -> Refusal {
    let detail = if quoted.is_empty() { String::new() } else { format!(": {quoted}") };
    let message = match status {
        StatusCode::NOT_FOUND => format!("nothing is served at {path}; check the address"),
        StatusCode::METHOD_NOT_ALLOWED => {
            let methods = allow.map_or_else(String::new, |v| String::from_utf8_lossy(v.as_bytes()).replace(',', ", "));
            format!("{path} does not take {}; it takes {methods}", asked.method)
        }
        StatusCode::PAYLOAD_TOO_LARGE => return Refusal::body_too_large(asked.max_body_bytes),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            let found = asked
                .content_type
                .as_ref()
                .map_or_else(|| "missing".to_string(), |v| format!("{:?}", String::from_utf8_lossy(v.as_bytes())));
            format!("the request's Content-Type is {found}, which this endpoint does not read{detail}")
        }
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => format!("the request does not read{detail}"),
        other => format!("{}{detail}", other.canonical_reason().unwrap_or("the request was refused")),
    };
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY { StatusCode::BAD_REQUEST } else { status };
    Refusal { status, message }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn asked(method: Method, content_type: Option<&'static str>) -> Asked {
        Asked { method, content_type: content_type.map(HeaderValue::from_static), max_body_bytes: 256 * 1024 }
    }

    #[test]
    fn axum_answers_become_refusals_that_say_what_to_do() {
        let allow = HeaderValue::from_static("GET,HEAD,POST");
        let r = explain(StatusCode::METHOD_NOT_ALLOWED, "/login", &asked(Method::PUT, None), Some(&allow), "");
        assert_eq!(
            r,
            Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "/login does not take PUT; it takes GET, HEAD, POST")
        );
        let r = explain(StatusCode::PAYLOAD_TOO_LARGE, "/x", &asked(Method::POST, None), None, "length limit exceeded");
        assert_eq!(r.message, "the request body is larger than 256 KiB, the most this endpoint reads; send less");
        let quoted = "Failed to deserialize form body: missing field `nonce`";
        let r = explain(StatusCode::UNPROCESSABLE_ENTITY, "/x", &asked(Method::POST, None), None, quoted);
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.message, format!("the request does not read: {quoted}"));
        let r = explain(StatusCode::UNSUPPORTED_MEDIA_TYPE, "/x", &asked(Method::POST, Some("text/plain")), None, "");
        assert_eq!(r.message, "the request's Content-Type is \"text/plain\", which this endpoint does not read");
        assert_eq!(explain(StatusCode::NOT_FOUND, "/nope", &asked(Method::GET, None), None, "").status, 404);
    }

    #[test]
    fn media_types_ignore_parameters_and_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(media_type(&headers), None);
        assert!(!media_type_is(&headers, &["application/json"]));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("Application/JSON; charset=utf-8"));
        assert!(media_type_is(&headers, &["application/json"]));
        let r = Refusal::unsupported_media_type(&headers, &["application/xml", "text/xml"]);
        assert_eq!(
            r.message,
            "the request's Content-Type is \"Application/JSON; charset=utf-8\"; send the body as application/xml or text/xml"
        );
        assert_eq!(size(1024 * 1024), "1 MiB");
        let r = Refusal::new(StatusCode::NOT_FOUND, "nothing is served at /x");
        assert_eq!((r.title(), r.sentence().as_str()), ("Page not found", "Nothing is served at /x."));
        assert_eq!(size(1000), "1000 bytes");
    }
}
