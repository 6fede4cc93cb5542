//! The admin API's guard: the bearer token of purpose `admin` the request carries, as an
//! extractor — a handler that takes [`AdminToken`] cannot run without a live one.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use crossfed_store::ApiToken;

use crate::state::Hub;
use crate::tokens;
use crate::web::error::ApiError;

/// The live admin token of the request.
pub struct AdminToken(pub ApiToken);

impl AdminToken {
    /// The audit log's actor for changes made with this token.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.0.name)
    }
}

impl FromRequestParts<Arc<Hub>> for AdminToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let token = tokens::authenticate(&hub.store, &parts.headers, tokens::ADMIN, hub.clock.unix()).await?;
        Ok(AdminToken(token))
    }
}
