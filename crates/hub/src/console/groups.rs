//! The Groups page: every group with its members, a group created, members added and removed —
//! the same operations as the admin API's, audited as the console session's token.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{GroupStore, Page, UserStore};
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Frame, Notice, message_page, show};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::views::CreateGroup;
use crate::web::error::ApiError;

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage<'a> {
    frame: Frame<'a>,
    total: i64,
    /// (group name, member user names)
    groups: Vec<(String, String)>,
    csrf: &'a str,
}

impl ConsolePage for GroupsPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

async fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let (groups, total) = match hub.store.list_groups(Page { offset: 0, limit: 500 }).await {
        Ok(g) => g,
        Err(e) => {
            let e = ApiError::from(e);
            return message_page(e.status, "/admin/groups", "Groups", Some(session), Notice::error(e.message));
        }
    };
    // Every membership and user name in two reads, not queries per group and member.
    let memberships = hub.store.group_names_by_user().await.unwrap_or_default();
    let (users, _) = hub.store.list_users(Page { offset: 0, limit: 5000 }).await.unwrap_or_default();
    let groups = groups
        .into_iter()
        .map(|group| {
            let mut members: Vec<&str> = memberships
                .iter()
                .filter(|(_, name)| *name == group.display_name)
                .filter_map(|(id, _)| users.iter().find(|u| u.id == *id).map(|u| u.user_name.as_str()))
                .collect();
            members.sort_by_key(|m| m.to_lowercase());
            (group.display_name.clone(), members.join(", "))
        })
        .collect();
    let frame = Frame::new("/admin/groups", "Groups", Some(session)).with(notice);
    show(status, &GroupsPage { frame, total, groups, csrf: &session.csrf })
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, None).await
}

#[derive(Deserialize)]
pub(super) struct GroupForm {
    display_name: String,
}

pub(super) async fn create(State(hub): State<Arc<Hub>>, posted: ConsoleForm<GroupForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let request =
        CreateGroup { display_name: form.display_name.trim().to_string(), external_id: None, members: Vec::new() };
    match crate::presenter::create_group(&hub, &session.actor(), &request).await {
        Ok(view) => {
            let notice = Notice::ok(format!("Added the group {}.", view.group.display_name));
            render(&hub, &session, StatusCode::OK, Some(notice)).await
        }
        Err(e) => render(&hub, &session, e.status, Some(Notice::error(e.message))).await,
    }
}

#[derive(Deserialize)]
pub(super) struct MembershipForm {
    group: String,
    user: String,
    change: String,
}

pub(super) async fn members(State(hub): State<Arc<Hub>>, posted: ConsoleForm<MembershipForm>) -> Response {
    let ConsoleForm { session, form } = posted;
    let add = form.change != "remove";
    let (group, user) = (form.group.trim(), form.user.trim());
    match crate::presenter::change_membership(&hub, &session.actor(), group, user, add).await {
        Ok(view) => {
            let done = if add { "is now a member of" } else { "is no longer a member of" };
            let notice = Notice::ok(format!("{user} {done} {}.", view.group.display_name));
            render(&hub, &session, StatusCode::OK, Some(notice)).await
        }
        Err(e) => render(&hub, &session, e.status, Some(Notice::error(e.message))).await,
    }
}
