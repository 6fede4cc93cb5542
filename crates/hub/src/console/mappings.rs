//! The attribute-mapping editor of a custom SAML application: the NameID and each attribute's
//! template (`${user:email}`, literals, or both), with a preview of a draft for any user before
//! it is saved. Templates of Amazon Connect and AWS account applications are fixed by the
//! template (the Role and RoleSessionName AWS requires); only custom applications are edited here.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_web::escape;

use super::guard::ConsoleForm;
use super::{application_page, message};
use crate::apps::catalog::CatalogEntry;
use crate::apps::spec::{AttributeEntry, CustomEntry};
use crate::state::Hub;
use crate::web::error::ApiError;

/// Empty rows offered for new attributes.
const SPARE_ROWS: usize = 3;

/// The mappings as the form holds them (saved or not).
#[derive(Debug, Clone, Default)]
pub(super) struct Draft {
    name_id_format: String,
    name_id: String,
    attributes: Vec<AttributeEntry>,
    /// Whom the draft was last previewed for, kept in the form.
    preview_user: String,
}

impl Draft {
    fn of(custom: &CustomEntry) -> Draft {
        Draft {
            name_id_format: custom.name_id_format.clone(),
            name_id: custom.name_id.clone(),
            attributes: custom.attributes.clone(),
            preview_user: String::new(),
        }
    }

    /// Reads the posted form: `name_N`, `value_N` and `required_N` per row; rows without a name
    /// are dropped.
    fn from_fields(fields: &[(String, String)]) -> Draft {
        let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
        let mut attributes = Vec::new();
        for i in 0.. {
            let Some(name) = field(&format!("name_{i}")) else { break };
            if name.is_empty() {
                continue;
            }
            attributes.push(AttributeEntry {
                name,
                value: field(&format!("value_{i}")).unwrap_or_default(),
                required: field(&format!("required_{i}")).is_some(),
            });
        }
        Draft {
            name_id_format: field("name_id_format").unwrap_or_default(),
            name_id: field("name_id").unwrap_or_default(),
            attributes,
            preview_user: field("preview_user").unwrap_or_default(),
        }
    }
}

/// With JavaScript, the draft is previewed as it is typed: the form is posted as "preview" in
/// the background and the answer's preview shown under it. Without, the buttons do the same.
pub(super) const LIVE_PREVIEW: &str = r#"(() => {
  const form = document.getElementById('mappings');
  const shown = document.getElementById('live-preview');
  if (!form || !shown || !window.fetch) return;
  let timer;
  const refresh = async () => {
    if (!form.elements['preview_user'].value.trim()) return;
    const data = new URLSearchParams(new FormData(form));
    data.set('action', 'preview');
    // form.action would be the button named "action": read the attribute.
    const answer = await fetch(form.getAttribute('action'), { method: 'POST', body: data, credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await answer.text(), 'text/html');
    const fresh = page.getElementById('preview') || page.getElementById('message');
    shown.replaceChildren(...(fresh ? [document.importNode(fresh, true)] : []));
    shown.querySelectorAll('[id]').forEach((e) => e.removeAttribute('id'));
  };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
})();"#;

/// Whether the console edits `entry`'s mappings: custom applications not owned by the file.
pub(super) fn editable(entry: &CatalogEntry) -> bool {
    entry.spec.custom.is_some() && entry.stored.managed_by != crossfed_store::ManagedBy::Config
}

/// The editor for `entry`, showing `draft` when one was posted, else the saved mappings.
pub(super) fn editor(id: &str, entry: &CatalogEntry, csrf: &str, draft: Option<&Draft>) -> String {
    let Some(custom) = &entry.spec.custom else {
        return "<p>This template fixes the mappings (the Role and RoleSessionName AWS requires); the preview below shows \
what each user receives.</p>"
            .to_string();
    };
    if entry.stored.managed_by == crossfed_store::ManagedBy::Config {
        return "<p>This application belongs to the configuration file: change its mappings there.</p>".to_string();
    }
    let saved = Draft::of(custom);
    let draft = draft.unwrap_or(&saved);
    let mut rows = String::new();
    let spare =
        std::iter::repeat_with(|| AttributeEntry { name: String::new(), value: String::new(), required: false });
    for (i, a) in draft.attributes.iter().cloned().chain(spare.take(SPARE_ROWS)).enumerate() {
        rows.push_str(&format!(
            "<tr><td><input name=\"name_{i}\" value=\"{}\" size=\"40\" aria-label=\"attribute {i} name\"></td>\
<td><input name=\"value_{i}\" value=\"{}\" size=\"40\" aria-label=\"attribute {i} template\"></td>\
<td><input type=\"checkbox\" name=\"required_{i}\" value=\"yes\"{} aria-label=\"attribute {i} required\"></td></tr>",
            escape(&a.name),
            escape(&a.value),
            if a.required { " checked" } else { "" }
        ));
    }
    format!(
        "<form method=\"post\" action=\"/admin/applications/{id}/mappings\" id=\"mappings\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<p><label>NameID format <input name=\"name_id_format\" value=\"{}\" size=\"60\"></label></p>\
<p><label>NameID <input name=\"name_id\" value=\"{}\" size=\"40\"></label></p>\
<table><tr><th>Sent as</th><th>Template</th><th>Required</th></tr>{rows}</table>\
<p>Templates take <code>${{user:email}}</code>, <code>${{user:userName}}</code>, <code>${{user:subject}}</code>, \
<code>${{user:givenName}}</code>, <code>${{user:familyName}}</code>, <code>${{user:displayName}}</code>, \
<code>${{user:groups}}</code>, <code>${{user:externalId}}</code>, <code>${{user:attr.NAME}}</code> and literal text. \
An empty name removes a row.</p>\
<label>Preview for <input name=\"preview_user\" value=\"{}\" placeholder=\"user name\"></label> \
<button type=\"submit\" name=\"action\" value=\"preview\">Preview the draft</button> \
<button type=\"submit\" name=\"action\" value=\"save\">Save the mappings</button></form>\
<div id=\"live-preview\" aria-live=\"polite\"></div>",
        escape(&draft.name_id_format),
        escape(&draft.name_id),
        escape(&draft.preview_user),
        id = escape(id),
        csrf = escape(csrf),
    )
}

pub(super) async fn post(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    posted: ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let ConsoleForm { session, form: fields } = posted;
    let field = |key: &str| fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_string());
    let draft = Draft::from_fields(&fields);
    let catalog = hub.catalog().await;
    let Some(entry) = catalog.get(&id) else {
        return application_page(&hub, &session, &id, StatusCode::NOT_FOUND, "", "", None).await;
    };
    let mut spec = entry.spec.clone();
    let Some(custom) = spec.custom.as_mut() else {
        let notice = message("error", "Only custom applications have editable mappings.");
        return application_page(&hub, &session, &id, StatusCode::BAD_REQUEST, &notice, "", None).await;
    };
    custom.name_id_format = draft.name_id_format.clone();
    custom.name_id = draft.name_id.clone();
    custom.attributes = draft.attributes.clone();
    if field("action").as_deref() == Some("save") {
        return match hub.apps().replace(&session.actor(), &id, spec).await.map_err(ApiError::from) {
            Ok(_) => {
                let notice = message("ok", "The mappings are saved; the next launch uses them.");
                application_page(&hub, &session, &id, StatusCode::OK, &notice, "", None).await
            }
            Err(e) => {
                let notice = message("error", &format!("Not saved: {}", e.message));
                application_page(&hub, &session, &id, e.status, &notice, "", Some(&draft)).await
            }
        };
    }
    let app = match spec.compile(&id) {
        Ok(app) => app,
        Err(e) => {
            let notice = message("error", &format!("The draft does not compile: {e}"));
            return application_page(&hub, &session, &id, StatusCode::BAD_REQUEST, &notice, "", Some(&draft)).await;
        }
    };
    let user = field("preview_user").unwrap_or_default();
    if user.is_empty() {
        let notice = message("error", "Name a user to preview the draft for.");
        return application_page(&hub, &session, &id, StatusCode::BAD_REQUEST, &notice, "", Some(&draft)).await;
    }
    match hub.apps().preview_of(&app, &entry.assignees, &user).await.map_err(ApiError::from) {
        Ok(p) => {
            let preview = super::preview_table(&p, "Draft, not saved");
            application_page(&hub, &session, &id, StatusCode::OK, "", &preview, Some(&draft)).await
        }
        Err(e) => {
            application_page(&hub, &session, &id, e.status, &message("error", &e.message), "", Some(&draft)).await
        }
    }
}
