//! The Users page: every user with their groups, a warning for each e-mail address or user name
//! several users still share (from before the directory refused that), and a user added
//! (through the directory service, audited as the console session's token).

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{Email, GroupStore, NewUser, Page, SharedValue, UserStore};
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Frame, Notice, message_page, show};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::web::error::ApiError;

/// A user as the table shows it.
struct Row {
    user_name: String,
    email: String,
    active: bool,
    groups: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage<'a> {
    frame: Frame<'a>,
    total: i64,
    users: Vec<Row>,
    csrf: &'a str,
}

impl ConsolePage for UsersPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

async fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let (users, total) = match hub.store.list_users(Page { offset: 0, limit: 500 }).await {
        Ok(u) => u,
        Err(e) => {
            let e = ApiError::from(e);
            return message_page(e.status, "/admin/users", "Users", Some(session), Notice::error(e.message));
        }
    };
    // Every membership in one read, not one query per user.
    let memberships = hub.store.group_names_by_user().await.unwrap_or_default();
    let users = users
        .into_iter()
        .map(|user| {
            let groups: Vec<&str> =
                memberships.iter().filter(|(id, _)| *id == user.id).map(|(_, group)| group.as_str()).collect();
            Row {
                email: user.email().unwrap_or("").to_string(),
                active: user.active,
                groups: groups.join(", "),
                user_name: user.user_name,
            }
        })
        .collect();
    let mut frame = Frame::new("/admin/users", "Users", Some(session)).with(notice);
    frame.notices.extend(hub.store.shared_values().await.unwrap_or_default().iter().map(shared_notice));
    show(status, &UsersPage { frame, total, users, csrf: &session.csrf })
}

/// The warning for a value several users share: who has it, who the hub gives it to, the fix.
fn shared_notice(shared: &SharedValue) -> Notice {
    let what =
        if shared.field == "email" { "e-mail address" } else { "user name (compared without case or Unicode form)" };
    let given = match &shared.holder {
        Some(holder) => format!("only {holder} may open applications that receive it"),
        None => "applications that receive it are refused to each of them".to_string(),
    };
    Notice::warn(format!(
        "The {what} {:?} belongs to several users: {}. It must belong to one: {given}; change it for the others.",
        shared.value,
        shared.users.join(", ")
    ))
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(super) struct UserForm {
    user_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, posted: ConsoleForm<UserForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
    let email = form.email.trim();
    let new = NewUser {
        user_name: form.user_name.trim().to_string(),
        emails: if email.is_empty() { Vec::new() } else { vec![Email::work(email)] },
        active: true,
        ..NewUser::default()
    };
    match hub.directory.create_user(&session.actor(), &new, password).await {
        Ok(user) => {
            render(&hub, &session, StatusCode::OK, Some(Notice::ok(format!("Added {}.", user.user_name)))).await
        }
        Err(e) => {
            let e = ApiError::from(e);
            render(&hub, &session, e.status, Some(Notice::error(e.message))).await
        }
    }
}
