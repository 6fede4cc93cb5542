//! Signing in to the console with an admin token, and signing out.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use crossfed_store::Outcome;
use crossfed_web::see_other;
use serde::Deserialize;

use super::guard::ConsoleForm;
use super::layout::{ConsolePage, Frame, NoFields, Notice, show};
use crate::state::Hub;
use crate::web::extract::same_site_request;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage<'a> {
    frame: Frame<'a>,
}

impl ConsolePage for LoginPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let frame = Frame::new("", "Sign in to the admin console", None).with(error.map(Notice::error));
    show(status, &LoginPage { frame })
}

pub(super) async fn login_form() -> Response {
    login_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    token: String,
}

pub(super) async fn login(State(hub): State<Arc<Hub>>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    if !same_site_request(&headers, &hub.base_url) {
        return login_page(StatusCode::FORBIDDEN, Some("This sign-in did not come from the console's own page."));
    }
    let mut bearer = HeaderMap::new();
    let Ok(value) = format!("Bearer {}", form.token.trim()).parse() else {
        return login_page(StatusCode::UNAUTHORIZED, Some("That is not an admin token."));
    };
    bearer.insert(axum::http::header::AUTHORIZATION, value);
    let admin = match crate::tokens::authenticate(&hub.store, &bearer, crate::tokens::ADMIN, hub.clock.unix()).await {
        Ok(t) => t,
        Err(e) => {
            hub.audit.note("console", "console.login", None, Outcome::Failure, e.to_string()).await;
            return login_page(StatusCode::UNAUTHORIZED, Some(&e.to_string()));
        }
    };
    match hub.sessions.start_console(&admin, crate::tokens::digest(form.token.trim())).await {
        Ok((_, cookie)) => see_other("/admin", cookie),
        Err(e) => login_page(StatusCode::SERVICE_UNAVAILABLE, Some(&e.to_string())),
    }
}

pub(super) async fn logout(State(hub): State<Arc<Hub>>, form: ConsoleForm<NoFields>) -> Response {
    see_other("/admin/login", hub.sessions.end_console(&form.session).await)
}
