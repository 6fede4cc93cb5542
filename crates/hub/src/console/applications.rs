//! The Applications pages: the list with a form to add one from the catalog, and each
//! application's page — its settings, mappings (edited for custom applications, with a preview
//! of a draft), a preview of what a user receives, and its assignments. The changes go through
//! the same service as the admin API's ([`crate::apps::changes`]), audited as the console
//! session's token.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{ManagedBy, PrincipalKind};
use crossfed_web::see_other;
use serde::Deserialize;

use super::add_application::definition;
use super::guard::{Console, ConsoleForm};
use super::layout::{ConsolePage, Frame, Notice, show};
use super::mappings::{Draft, Editor, LIVE_PREVIEW};
use crate::apps::model::Application;
use crate::apps::spec::spec_from_json;
use crate::sessions::ConsoleSession;
use crate::state::Hub;
use crate::views::Preview;
use crate::web::error::ApiError;

const HERE: &str = "/admin/applications";

/// An application in the list.
struct Listed {
    id: String,
    name: String,
    template: String,
    from_config: bool,
    assigned: String,
}

#[derive(Template)]
#[template(path = "console/applications.html")]
struct ListPage<'a> {
    frame: Frame<'a>,
    apps: Vec<Listed>,
    csrf: &'a str,
}

impl ConsolePage for ListPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

async fn list_page(hub: &Hub, session: &ConsoleSession, status: StatusCode, notice: Option<Notice>) -> Response {
    let catalog = hub.catalog().await;
    let apps = catalog
        .entries
        .iter()
        .map(|(id, entry)| Listed {
            id: id.clone(),
            name: entry.app.name.clone(),
            template: entry.stored.template.clone(),
            from_config: entry.stored.managed_by == ManagedBy::Config,
            assigned: entry
                .assignments
                .iter()
                .map(|a| format!("{} {}", a.kind.as_str(), a.name))
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let frame = Frame::new(HERE, "Applications", Some(session)).with(notice);
    show(status, &ListPage { frame, apps, csrf: &session.csrf })
}

pub(super) async fn list(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    list_page(&hub, &session, StatusCode::OK, None).await
}

/// Adds an application from the form, made into the admin API's JSON and checked the same way.
pub(super) async fn create(State(hub): State<Arc<Hub>>, posted: ConsoleForm<Vec<(String, String)>>) -> Response {
    let ConsoleForm { session, form: fields } = posted;
    let refused = |status: StatusCode, text: String| {
        let notice = Some(Notice::error(format!("Not added: {text}")));
        let (hub, session) = (&hub, &session);
        async move { list_page(hub, session, status, notice).await }
    };
    let value = match definition(&fields) {
        Ok(v) => v,
        Err(e) => return refused(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    let (id, spec) = match spec_from_json(value, None) {
        Ok(parsed) => parsed,
        Err(e) => return refused(StatusCode::BAD_REQUEST, e.to_string()).await,
    };
    match hub.apps().create(&session.actor(), &id, &spec).await.map_err(ApiError::from) {
        Ok(_) => see_other(&format!("/admin/applications/{}", path_segment(&id)), None),
        Err(e) => refused(e.status, e.message).await,
    }
}

/// A path segment for an ID the store accepted (letters, digits and a few marks).
fn path_segment(id: &str) -> String {
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// An assignment as the page shows it.
struct Assigned {
    kind: PrincipalKind,
    name: String,
    from_config: bool,
}

/// A preview shown on the page, with what a launch would say about it.
struct Shown {
    /// Whose mappings: empty for the saved ones.
    label: &'static str,
    preview: Preview,
    notes: Vec<Notice>,
}

impl Shown {
    fn of(preview: Preview, label: &'static str) -> Shown {
        let mut notes = Vec::new();
        if !preview.assigned {
            notes.push(Notice::warn(format!("{} is not assigned: a launch would be refused.", preview.user)));
        }
        if !preview.active {
            notes.push(Notice::warn(format!("{} is disabled.", preview.user)));
        }
        notes.extend(preview.error.clone().map(Notice::error));
        Shown { label, preview, notes }
    }
}

#[derive(Template)]
#[template(path = "console/application.html")]
struct AppPage<'a> {
    frame: Frame<'a>,
    id: &'a str,
    template: String,
    app: Application,
    entity_id: String,
    editor: Editor,
    preview: Option<Shown>,
    assignments: Vec<Assigned>,
    csrf: &'a str,
}

impl ConsolePage for AppPage<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

/// The application page, with the outcome of a preview or a change above it.
async fn app_page(
    hub: &Hub,
    session: &ConsoleSession,
    id: &str,
    status: StatusCode,
    notice: Option<Notice>,
    preview: Option<Shown>,
    draft: Option<Draft>,
) -> Response {
    let catalog = hub.catalog().await;
    let Some(entry) = catalog.get(id) else {
        let notice = Notice::error(format!("There is no application {id:?}."));
        return super::layout::message_page(StatusCode::NOT_FOUND, HERE, "No such application", Some(session), notice);
    };
    let editor = Editor::of(entry, draft);
    let mut frame = Frame::new(HERE, format!("{} ({id})", entry.app.name), Some(session)).with(notice);
    if matches!(editor, Editor::Draft(_)) {
        frame = frame.with_script(LIVE_PREVIEW);
    }
    let page = AppPage {
        frame,
        id,
        template: entry.stored.template.clone(),
        app: entry.app.clone(),
        entity_id: hub.app_entity_id(id),
        editor,
        preview,
        assignments: entry
            .assignments
            .iter()
            .map(|a| Assigned { kind: a.kind, name: a.name.clone(), from_config: a.managed_by == ManagedBy::Config })
            .collect(),
        csrf: &session.csrf,
    };
    show(status, &page)
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console, Path(id): Path<String>) -> Response {
    app_page(&hub, &session, &id, StatusCode::OK, None, None, None).await
}

#[derive(Deserialize)]
pub(super) struct PreviewForm {
    user: String,
}

pub(super) async fn preview(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    posted: ConsoleForm<PreviewForm>,
) -> Response {
    let ConsoleForm { session, form } = posted;
    match hub.apps().preview(&id, form.user.trim()).await.map_err(ApiError::from) {
        Ok(p) => app_page(&hub, &session, &id, StatusCode::OK, None, Some(Shown::of(p, "")), None).await,
        Err(e) => app_page(&hub, &session, &id, e.status, Some(Notice::error(e.message)), None, None).await,
    }
}

#[derive(Deserialize)]
pub(super) struct AssignmentForm {
    kind: String,
    name: String,
    change: String,
}

pub(super) async fn change_assignment(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    posted: ConsoleForm<AssignmentForm>,
) -> Response {
    let ConsoleForm { session, form } = posted;
    let kind = if form.kind == "group" { PrincipalKind::Group } else { PrincipalKind::User };
    let add = form.change != "remove";
    let name = form.name.trim();
    match hub.apps().change_assignment(&session.actor(), &id, kind, name, add).await.map_err(ApiError::from) {
        Ok(_) => {
            let done = if add { "assigned" } else { "no longer assigned" };
            let notice = Notice::ok(format!("{} {name} is {done}.", kind.as_str()));
            app_page(&hub, &session, &id, StatusCode::OK, Some(notice), None, None).await
        }
        Err(e) => app_page(&hub, &session, &id, e.status, Some(Notice::error(e.message)), None, None).await,
    }
}

/// The mappings editor's form: saved, or previewed as a draft for a user.
pub(super) async fn mappings(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    posted: ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let ConsoleForm { session, form: fields } = posted;
    let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
    let draft = Draft::from_fields(&fields);
    let catalog = hub.catalog().await;
    let Some(entry) = catalog.get(&id) else {
        return app_page(&hub, &session, &id, StatusCode::NOT_FOUND, None, None, None).await;
    };
    let mut spec = entry.spec.clone();
    let Some(custom) = spec.custom.as_mut() else {
        let notice = Notice::error("Only custom applications have editable mappings.");
        return app_page(&hub, &session, &id, StatusCode::BAD_REQUEST, Some(notice), None, None).await;
    };
    custom.name_id_format = draft.name_id_format.clone();
    custom.name_id = draft.name_id.clone();
    custom.attributes = draft.attributes.clone();
    if field("action").as_deref() == Some("save") {
        return match hub.apps().replace(&session.actor(), &id, spec).await.map_err(ApiError::from) {
            Ok(_) => {
                let notice = Notice::ok("The mappings are saved; the next launch uses them.");
                app_page(&hub, &session, &id, StatusCode::OK, Some(notice), None, None).await
            }
            Err(e) => {
                let notice = Notice::error(format!("Not saved: {}", e.message));
                app_page(&hub, &session, &id, e.status, Some(notice), None, Some(draft)).await
            }
        };
    }
    let app = match spec.compile(&id) {
        Ok(app) => app,
        Err(e) => {
            let notice = Notice::error(format!("The draft does not compile: {e}"));
            return app_page(&hub, &session, &id, StatusCode::BAD_REQUEST, Some(notice), None, Some(draft)).await;
        }
    };
    let user = field("preview_user").unwrap_or_default();
    if user.is_empty() {
        let notice = Notice::error("Name a user to preview the draft for.");
        return app_page(&hub, &session, &id, StatusCode::BAD_REQUEST, Some(notice), None, Some(draft)).await;
    }
    match hub.apps().preview_of(&app, &entry.assignees, &user).await.map_err(ApiError::from) {
        Ok(p) => {
            let shown = Shown::of(p, "Draft, not saved");
            app_page(&hub, &session, &id, StatusCode::OK, None, Some(shown), Some(draft)).await
        }
        Err(e) => app_page(&hub, &session, &id, e.status, Some(Notice::error(e.message)), None, Some(draft)).await,
    }
}
