//! The admin API's bodies on the wire: a request body read as JSON ([`ApiJson`]: 415 unless it
//! is sent as `application/json`, 413 past the body limit, 400 naming the field that does not
//! read and what it takes) or as XML ([`XmlBody`]), and an answer written as JSON with its status.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crossfed_web::{Refusal, media_type_is};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::web::error::ApiError;
use crate::web::refusal::unread_body;

pub type ApiResult = Result<Response, ApiError>;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> ApiResult {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal(format!("encoding the answer: {e}")))?;
    Ok((status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The body of a request whose `Content-Type` is one of `accepted`.
async fn body_of<S: Send + Sync>(request: Request, state: &S, accepted: &[&str]) -> Result<Bytes, ApiError> {
    if !media_type_is(request.headers(), accepted) {
        return Err(Refusal::unsupported_media_type(request.headers(), accepted).into());
    }
    Bytes::from_request(request, state).await.map_err(|e| unread_body(&e).into())
}

/// A JSON request body read as `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = body_of(request, state, &["application/json"]).await?;
        parse(&body).map(ApiJson)
    }
}

/// A JSON request body read as `T`, or `T::default()` when there is no body at all (a request
/// whose fields are all optional, such as a rotation, may be sent without one).
pub struct ApiJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for ApiJsonOrEmpty<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let no_type = request.headers().get(axum::http::header::CONTENT_TYPE).is_none();
        if no_type {
            let body = Bytes::from_request(request, state).await.map_err(|e| ApiError::from(unread_body(&e)))?;
            if body.is_empty() {
                return Ok(ApiJsonOrEmpty(T::default()));
            }
            // A body without its type is refused as ApiJson refuses it.
            return Err(Refusal::unsupported_media_type(&axum::http::HeaderMap::new(), &["application/json"]).into());
        }
        ApiJson::from_request(request, state).await.map(|ApiJson(value)| ApiJsonOrEmpty(value))
    }
}

/// An XML request body (IdP metadata), as sent.
pub struct XmlBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for XmlBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        const XML: [&str; 3] = ["application/xml", "text/xml", "application/samlmetadata+xml"];
        body_of(request, state, &XML).await.map(XmlBody)
    }
}

/// Reads `body` as `T`; a field that does not read is named with what it takes.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty; send a JSON object"));
    }
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        if field == "." {
            ApiError::bad_request(format!("the request body: {inner}"))
        } else {
            ApiError::bad_request(format!("the request body's field {field}: {inner}"))
        }
    })?;
    reader.end().map_err(|e| ApiError::bad_request(format!("the request body: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        active: Option<bool>,
    }

    #[test]
    fn errors_name_the_field_and_what_it_takes() {
        let e = parse::<Sample>(br#"{"name": "x", "active": "yes"}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(
            e.message.starts_with("the request body's field active: invalid type: string \"yes\", expected a boolean"),
            "{}",
            e.message
        );
        let e = parse::<Sample>(br#"{"active": true}"#).unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{}", e.message);
        let e = parse::<Sample>(b" ").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        let e = parse::<Sample>(br#"{"name": "x"} trailing"#).unwrap_err();
        assert!(e.message.contains("trailing"), "{}", e.message);
    }
}
