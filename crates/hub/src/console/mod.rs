//! The admin console at `/admin`: server-rendered pages (askama templates in
//! `templates/console/`) over the same services as the admin API, working without JavaScript.
//! Signing in takes an admin token — the file `crossfed serve` writes at first start, or one
//! made with the API — and opens a console session in the store that ends when the token is
//! revoked or expires. Every page takes the console session as an extractor, and every form
//! carries the session's CSRF token and must come from the hub's own pages ([`guard`]).

mod add_application;
mod applications;
mod audit;
mod checks;
mod groups;
mod guard;
mod identity_source;
mod keys;
mod layout;
mod mappings;
mod overview;
mod provisioning;
mod session;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::Hub;

pub fn routes() -> Router<Arc<Hub>> {
    Router::new()
        .route("/admin", get(overview::page))
        .route("/admin/login", get(session::login_form).post(session::login))
        .route("/admin/logout", post(session::logout))
        .route("/admin/applications", get(applications::list).post(applications::create))
        .route("/admin/applications/{id}", get(applications::page))
        .route("/admin/applications/{id}/preview", post(applications::preview))
        .route("/admin/applications/{id}/mappings", post(applications::mappings))
        .route("/admin/applications/{id}/assignments", post(applications::change_assignment))
        .route("/admin/users", get(users::page).post(users::create))
        .route("/admin/groups", get(groups::page).post(groups::create))
        .route("/admin/groups/members", post(groups::members))
        .route("/admin/provisioning", get(provisioning::page))
        .route("/admin/provisioning/sync", post(provisioning::sync))
        .route("/admin/audit", get(audit::page))
        .route("/admin/checks", get(checks::page))
        .route("/admin/checks/simulate", post(checks::simulate))
        .route("/admin/keys", get(keys::page))
        .route("/admin/keys/{step}", post(keys::step))
        .route("/admin/identity-source", get(identity_source::page))
        .route("/admin/identity-source/metadata", post(identity_source::upload))
        .route("/admin/identity-source/test", post(identity_source::start_test))
        .route("/admin/identity-source/test/{id}", get(identity_source::test_result))
}
