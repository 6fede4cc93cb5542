//! The outbound SCIM connector: pushes this hub's users and groups to another SCIM endpoint —
//! how corp provisions the hub in the demo, as Entra ID provisions IAM Identity Center. Each
//! user is found at the target by the ID recorded when it was created there, else by userName
//! (an existing one is adopted), created otherwise, and replaced (PUT) when its representation
//! changed since the last push. Users and groups gone from this directory are deleted there.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use crossfed_store::{GroupStore, ProvisioningStore, SyncState, User, UserStore};
use serde_json::{Value, json};

use super::context::{Context, Recorder, all_users, with_retries};
use crate::apps::mapping::Template;
use crate::directory::scim::user_to_scim;

pub struct ScimPush {
    pub name: String,
    /// The target's SCIM base URL (`…/scim/v2`).
    pub base_url: String,
    pub token: String,
    /// The target's userName for a user (default `${user:userName}`).
    pub user_name: Template,
    /// The target's externalId for a user (default `${user:subject}`).
    pub external_id: Template,
    pub client: reqwest::Client,
    /// Digests of what was last pushed per subject, so an unchanged one is not sent again
    /// between full passes.
    pushed: Mutex<BTreeMap<String, String>>,
}

/// Shows where it pushes, never the token.
impl std::fmt::Debug for ScimPush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimPush").field("name", &self.name).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// Why a SCIM call failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the SCIM endpoint is unreachable: {0}")]
    Unreachable(String),
    #[error("the SCIM endpoint answered {status}: {detail}")]
    Refused { status: u16, detail: String },
    #[error("cannot build the user's representation: {0}")]
    Mapping(String),
}

impl PushError {
    fn retryable(&self) -> bool {
        match self {
            PushError::Unreachable(_) => true,
            PushError::Refused { status, .. } => *status >= 500 || *status == 429,
            PushError::Mapping(_) => false,
        }
    }

    fn status(&self) -> Option<u16> {
        match self {
            PushError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn group_subject(id: &str) -> String {
    format!("group:{id}")
}

fn digest(value: &Value) -> String {
    crossfed_random::to_hex(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.to_string().as_bytes()).as_ref(),
    )
}

impl ScimPush {
    pub fn new(
        name: &str,
        base_url: &str,
        token: &str,
        user_name: Template,
        external_id: Template,
    ) -> Result<Self, PushError> {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PushError::Unreachable(format!("SCIM client: {e}")))?;
        Ok(ScimPush {
            name: name.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            user_name,
            external_id,
            client,
            pushed: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn connector_name(&self) -> String {
        format!("scim:{}", self.name)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, PushError> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .header("accept", crossfed_scim::MEDIA_TYPE);
        if let Some(body) = body {
            request = request.header("content-type", crossfed_scim::MEDIA_TYPE).body(body.to_string());
        }
        let response = request.send().await.map_err(|e| PushError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| PushError::Unreachable(e.to_string()))?;
        let value: Value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        let detail = value
            .get("detail")
            .and_then(Value::as_str)
            .map_or_else(|| text.chars().take(200).collect(), str::to_string);
        Err(PushError::Refused { status, detail })
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<Value, PushError> {
        with_retries(PushError::retryable, || self.call(method.clone(), path, body)).await
    }

    /// The ID of the target's resource whose `attribute` equals `value`, if there is one.
    async fn find(&self, endpoint: &str, attribute: &str, value: &str) -> Result<Option<String>, PushError> {
        let filter = format!("{attribute} eq {}", Value::String(value.to_string()));
        let query: String = url_query(&[("filter", &filter), ("count", "2")]);
        let found = self.send(reqwest::Method::GET, &format!("/{endpoint}?{query}"), None).await?;
        Ok(found.pointer("/Resources/0/id").and_then(Value::as_str).map(str::to_string))
    }

    /// The user as the target should hold it.
    async fn user_document(&self, context: &Context, user: &User) -> Result<Value, PushError> {
        let values = context.directory.user_values(user).await.map_err(|e| PushError::Mapping(e.to_string()))?;
        let first = |t: &Template, what: &str| {
            t.evaluate(&values, what)
                .map_err(|e| PushError::Mapping(e.to_string()))?
                .into_iter()
                .next()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| PushError::Mapping(format!("{what} is empty for {}", user.user_name)))
        };
        let mut document = user_to_scim(user, &[], &self.base_url);
        if let Some(fields) = document.as_object_mut() {
            // What the target assigns or derives is not sent.
            for key in ["id", "meta", "groups"] {
                fields.remove(key);
            }
            fields.insert("userName".into(), Value::String(first(&self.user_name, "userName")?));
            fields.insert("externalId".into(), Value::String(first(&self.external_id, "externalId")?));
            fields.insert("active".into(), Value::Bool(user.active));
        }
        Ok(document)
    }

    /// Creates or replaces `document` at the target; returns its ID there.
    async fn upsert(
        &self,
        endpoint: &str,
        key_attribute: &str,
        key: &str,
        known_id: Option<&str>,
        document: &Value,
    ) -> Result<(String, &'static str), PushError> {
        let known = match known_id {
            Some(id) => Some(id.to_string()),
            None => self.find(endpoint, key_attribute, key).await?,
        };
        if let Some(id) = known {
            match self.send(reqwest::Method::PUT, &format!("/{endpoint}/{id}"), Some(document)).await {
                Ok(_) => return Ok((id, if known_id.is_some() { "update" } else { "adopt" })),
                // Deleted at the target since: create it again.
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e),
            }
        }
        let created = match self.send(reqwest::Method::POST, &format!("/{endpoint}"), Some(document)).await {
            Ok(created) => created,
            // It exists under another ID than the one recorded: adopt that one.
            Err(e) if e.status() == Some(409) && known_id.is_some() => {
                let Some(id) = self.find(endpoint, key_attribute, key).await? else { return Err(e) };
                self.send(reqwest::Method::PUT, &format!("/{endpoint}/{id}"), Some(document)).await?;
                return Ok((id, "adopt"));
            }
            Err(e) => return Err(e),
        };
        let id = created
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| PushError::Refused { status: 201, detail: "the created resource has no id".to_string() })?;
        Ok((id.to_string(), "create"))
    }

    fn unchanged(&self, subject: &str, document: &Value) -> bool {
        let digest = digest(document);
        self.pushed.lock().is_ok_and(|p| p.get(subject) == Some(&digest))
    }

    fn remember(&self, subject: &str, document: &Value) {
        if let Ok(mut pushed) = self.pushed.lock() {
            pushed.insert(subject.to_string(), digest(document));
        }
    }

    fn forget(&self, subject: &str) {
        if let Ok(mut pushed) = self.pushed.lock() {
            pushed.remove(subject);
        }
    }

    /// One pass over users and groups; `full` pushes even what looks unchanged. Returns when
    /// the next retry is due, if anything failed.
    pub async fn run(&self, context: &Context, full: bool) -> Option<i64> {
        let recorder = Recorder { context, connector: self.connector_name() };
        let now = || context.now();
        let mut next_retry: Option<i64> = None;
        let mut note = |at: i64| next_retry = Some(next_retry.map_or(at, |n: i64| n.min(at)));
        let users = match all_users(&context.store).await {
            Ok(users) => users,
            Err(e) => {
                tracing::warn!("provisioning {}: reading the directory: {e}", recorder.connector);
                return Some(now() + context.schedule.retry_base_seconds.max(1));
            }
        };
        let mut remote_ids: BTreeMap<String, String> = BTreeMap::new();
        let mut present: BTreeSet<String> = BTreeSet::new();
        for user in &users {
            present.insert(user.id.clone());
            let previous = recorder.previous(&user.id).await;
            let known = previous.as_ref().filter(|r| r.state != SyncState::Removed).and_then(|r| r.remote_id.clone());
            if Recorder::waiting(previous.as_ref(), context.now()) {
                note(previous.as_ref().map_or(0, |r| r.next_attempt_at));
                if let Some(id) = known {
                    remote_ids.insert(user.id.clone(), id);
                }
                continue;
            }
            let result = async {
                let document = self.user_document(context, user).await?;
                let in_sync = previous.as_ref().is_some_and(|r| r.state == SyncState::InSync);
                if !full && in_sync && self.unchanged(&user.id, &document) {
                    return Ok((known.clone().unwrap_or_default(), None, document));
                }
                let key = document.get("userName").and_then(Value::as_str).unwrap_or_default().to_string();
                let (id, action) = self.upsert("Users", "userName", &key, known.as_deref(), &document).await?;
                Ok::<_, PushError>((id, Some(action), document))
            }
            .await;
            match result {
                Ok((id, action, document)) => {
                    self.remember(&user.id, &document);
                    // A routine replacement of an unchanged user is not news.
                    let action = action
                        .filter(|a| *a != "update" || !previous.as_ref().is_some_and(|r| r.state == SyncState::InSync));
                    recorder.in_sync(&user.id, &user.user_name, &id, action).await;
                    remote_ids.insert(user.id.clone(), id);
                }
                Err(e) => {
                    if let Some(id) = known {
                        remote_ids.insert(user.id.clone(), id);
                    }
                    note(recorder.failed(previous.as_ref(), &user.id, &user.user_name, &e.to_string()).await);
                }
            }
        }
        self.push_groups(context, &recorder, &remote_ids, full, &mut note).await;
        self.remove_gone(context, &recorder, &present, &mut note).await;
        next_retry
    }

    async fn push_groups(
        &self,
        context: &Context,
        recorder: &Recorder<'_>,
        remote_ids: &BTreeMap<String, String>,
        full: bool,
        note: &mut impl FnMut(i64),
    ) {
        let mut offset = 0;
        loop {
            let page = crossfed_store::Page { offset, limit: 1000 };
            let (groups, total) = match context.store.list_groups(page).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!("provisioning {}: reading groups: {e}", recorder.connector);
                    return;
                }
            };
            for group in &groups {
                let subject = group_subject(&group.id);
                let previous = recorder.previous(&subject).await;
                if Recorder::waiting(previous.as_ref(), context.now()) {
                    note(previous.as_ref().map_or(0, |r| r.next_attempt_at));
                    continue;
                }
                let known =
                    previous.as_ref().filter(|r| r.state != SyncState::Removed).and_then(|r| r.remote_id.clone());
                let members = match context.store.members(&group.id).await {
                    Ok(m) => m,
                    Err(e) => {
                        note(recorder.failed(previous.as_ref(), &subject, &group.display_name, &e.to_string()).await);
                        continue;
                    }
                };
                // Members the target does not hold yet (a failed push) are left out until it does.
                let members: Vec<Value> =
                    members.iter().filter_map(|m| remote_ids.get(m)).map(|id| json!({"value": id})).collect();
                let document = json!({
                    "schemas": [crossfed_scim::GROUP_SCHEMA],
                    "displayName": group.display_name,
                    "externalId": group.id,
                    "members": members,
                });
                let in_sync = previous.as_ref().is_some_and(|r| r.state == SyncState::InSync);
                if !full && in_sync && self.unchanged(&subject, &document) {
                    continue;
                }
                match self.upsert("Groups", "displayName", &group.display_name, known.as_deref(), &document).await {
                    Ok((id, action)) => {
                        self.remember(&subject, &document);
                        let action = Some(action).filter(|a| *a != "update" || !in_sync);
                        recorder.in_sync(&subject, &group.display_name, &id, action).await;
                    }
                    Err(e) => {
                        note(recorder.failed(previous.as_ref(), &subject, &group.display_name, &e.to_string()).await)
                    }
                }
            }
            offset += groups.len() as i64;
            if groups.is_empty() || offset >= total {
                return;
            }
        }
    }

    /// Deletes at the target what left this directory.
    async fn remove_gone(
        &self,
        context: &Context,
        recorder: &Recorder<'_>,
        users: &BTreeSet<String>,
        note: &mut impl FnMut(i64),
    ) {
        let records = match context.store.list_provisioning(Some(&recorder.connector)).await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!("provisioning {}: reading its records: {e}", recorder.connector);
                return;
            }
        };
        for record in records {
            if record.state == SyncState::Removed || Recorder::waiting(Some(&record), context.now()) {
                continue;
            }
            // Users are read page by page: one missed by a concurrent change is looked up again
            // before anything is deleted (a failed read counts as present).
            let (endpoint, still_here) = match record.subject_id.strip_prefix("group:") {
                Some(group_id) => {
                    ("Groups", context.store.get_group(group_id).await.map(|g| g.is_some()).unwrap_or(true))
                }
                None => (
                    "Users",
                    users.contains(&record.subject_id)
                        || context.store.get_user(&record.subject_id).await.map(|u| u.is_some()).unwrap_or(true),
                ),
            };
            if still_here {
                continue;
            }
            self.forget(&record.subject_id);
            let Some(remote_id) = &record.remote_id else {
                recorder.removed(&record.subject_id, &record.subject_name, false).await;
                continue;
            };
            match self.send(reqwest::Method::DELETE, &format!("/{endpoint}/{remote_id}"), None).await {
                Ok(_) => recorder.removed(&record.subject_id, &record.subject_name, true).await,
                Err(e) if e.status() == Some(404) => {
                    recorder.removed(&record.subject_id, &record.subject_name, false).await
                }
                Err(e) => {
                    note(recorder.failed(Some(&record), &record.subject_id, &record.subject_name, &e.to_string()).await)
                }
            }
        }
    }
}

/// A query string with each value percent-encoded.
fn url_query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let template = |t: &str| Template::parse(t).unwrap();
        let push = ScimPush::new(
            "hub",
            "https://hub/scim/v2/",
            "cfscim_secret",
            template("${user:email}"),
            template("${user:subject}"),
        )
        .unwrap();
        let shown = format!("{push:?}");
        assert!(shown.contains("https://hub/scim/v2") && !shown.contains("cfscim_secret"), "{shown}");
        assert_eq!(url_query(&[("filter", "userName eq \"a b\"")]), "filter=userName%20eq%20%22a%20b%22");
    }
}
