//! The Groups page: every group with its members, a group created, members added and removed —
//! the same operations as the admin API's, audited as the console session's token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{GroupStore, Page, UserStore};
use crossfed_web::escape;
use serde::Deserialize;

use super::guard::{Console, ConsoleForm};
use super::{api_error_page, message};
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::views::CreateGroup;

async fn render(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: &str) -> Response {
    let (groups, total) = match hub.store.list_groups(Page { offset: 0, limit: 500 }).await {
        Ok(g) => g,
        Err(e) => return api_error_page(session, "/admin/groups", "Groups", &e.into()),
    };
    // Every membership and user name in two reads, not queries per group and member.
    let memberships = hub.store.group_names_by_user().await.unwrap_or_default();
    let (users, _) = hub.store.list_users(Page { offset: 0, limit: 5000 }).await.unwrap_or_default();
    let mut rows = String::new();
    for group in groups {
        let mut members: Vec<&str> = memberships
            .iter()
            .filter(|(_, name)| *name == group.display_name)
            .filter_map(|(id, _)| users.iter().find(|u| u.id == *id).map(|u| u.user_name.as_str()))
            .collect();
        members.sort_by_key(|m| m.to_lowercase());
        let members: Vec<String> = members.into_iter().map(escape).collect();
        rows.push_str(&format!("<tr><td>{}</td><td>{}</td></tr>", escape(&group.display_name), members.join(", ")));
    }
    let csrf = escape(&session.csrf);
    let body = format!(
        "{notice}<p>{total} groups. Applications are assigned to groups on their own pages.</p>\
<table><tr><th>Group</th><th>Members</th></tr>{rows}</table>\
<h2>Add a group</h2><form method=\"post\" action=\"/admin/groups\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input name=\"display_name\" required placeholder=\"group name\"> <button type=\"submit\">Add the group</button></form>\
<h2>Members</h2><form method=\"post\" action=\"/admin/groups/members\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input name=\"group\" required placeholder=\"group\"> <input name=\"user\" required placeholder=\"user name\"> \
<select name=\"change\"><option value=\"add\">add</option><option value=\"remove\">remove</option></select> \
<button type=\"submit\">Change membership</button></form>"
    );
    super::page(status, "/admin/groups", "Groups", Some(session), &body)
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    render(&hub, &session, StatusCode::OK, "").await
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
            let notice = message("ok", &format!("Added the group {}.", view.group.display_name));
            render(&hub, &session, StatusCode::OK, &notice).await
        }
        Err(e) => render(&hub, &session, e.status, &message("error", &e.message)).await,
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
            let notice = message("ok", &format!("{user} {done} {}.", view.group.display_name));
            render(&hub, &session, StatusCode::OK, &notice).await
        }
        Err(e) => render(&hub, &session, e.status, &message("error", &e.message)).await,
    }
}
