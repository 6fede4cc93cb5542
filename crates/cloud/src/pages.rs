//! The few HTML pages of the emulated console, from the templates in `templates/`: role picker,
//! console home, agent workspace, and the error pages that say what is wrong and how to fix it.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::{FormTargets, render};

fn page(status: StatusCode, template: &impl Template) -> Response {
    render(status, template, None, FormTargets::SameOrigin)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    fix: &'a str,
}

/// An error page: what went wrong, and what to do about it.
pub fn error_page(status: StatusCode, title: &str, message: &str, fix: &str) -> Response {
    page(status, &ErrorPage { title, message, fix })
}

#[derive(Template)]
#[template(path = "role_picker.html")]
struct RolePicker<'a> {
    title: &'a str,
    name_id: &'a str,
    account: &'a str,
    /// The pending choice the form answers.
    choice: &'a str,
    roles: Vec<&'a str>,
}

/// The role picker for an assertion granting several roles.
pub fn role_picker(name_id: &str, account: &str, choice: &str, roles: Vec<&str>) -> Response {
    page(StatusCode::OK, &RolePicker { title: "Select a role", name_id, account, choice, roles })
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsoleHome<'a> {
    title: &'a str,
    arn: &'a str,
    account: &'a str,
    ends: &'a str,
}

/// Who is signed in to the console, and until when.
pub fn console_home(arn: &str, account: &str, ends: &str) -> Response {
    page(StatusCode::OK, &ConsoleHome { title: "Console", arn, account, ends })
}

#[derive(Template)]
#[template(path = "agent_workspace.html")]
struct AgentWorkspace<'a> {
    title: &'a str,
    agent: &'a str,
    alias: &'a str,
    instance_id: &'a str,
    page: &'a str,
}

/// The agent workspace an agent lands on.
pub fn agent_workspace(agent: &str, alias: &str, instance_id: &str, page_path: &str) -> Response {
    page(StatusCode::OK, &AgentWorkspace { title: "Agent workspace", agent, alias, instance_id, page: page_path })
}
