//! The console's overview: counts, broken applications, the identity source and the signing
//! key with their certificates' expiry.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use crossfed_store::{GroupStore, Page, ProvisioningStore, SyncState, UserStore};

use super::guard::Console;
use super::layout::{ConsolePage, Expiry, Frame, show};
use crate::state::Hub;

#[derive(Template)]
#[template(path = "console/overview.html")]
struct Overview<'a> {
    frame: Frame<'a>,
    /// (label, value, link)
    cards: Vec<(&'static str, String, &'static str)>,
    /// (application, why it does not compile)
    broken: Vec<(String, String)>,
    /// The IdP's entity ID and its soonest-expiring signing certificate.
    idp: Option<(String, Option<Expiry>)>,
    key_subject: String,
    key_expiry: Expiry,
}

impl ConsolePage for Overview<'_> {
    fn frame(&self) -> &Frame<'_> {
        &self.frame
    }
}

pub(super) async fn page(State(hub): State<Arc<Hub>>, Console(session): Console) -> Response {
    let now = hub.clock.unix();
    let catalog = hub.catalog().await;
    let users = hub.store.list_users(Page { offset: 0, limit: 1 }).await.map(|(_, n)| n).unwrap_or(0);
    let groups = hub.store.list_groups(Page { offset: 0, limit: 1 }).await.map(|(_, n)| n).unwrap_or(0);
    let records = hub.store.list_provisioning(None).await.unwrap_or_default();
    let failed = records.iter().filter(|r| r.state == SyncState::Failed).count();
    let idp = hub.identity_source.as_ref().map(|source| {
        let idp = source.idp();
        let soonest = idp.idp.as_ref().and_then(|d| d.signing_certificates.iter().map(|c| c.not_after()).min());
        (idp.entity_id.clone(), soonest.map(|t| Expiry::of(t, now)))
    });
    let key = hub.keys.assertion.signing_key();
    let overview = Overview {
        frame: Frame::new("/admin", "Overview", Some(&session)),
        cards: vec![
            ("Applications", catalog.entries.len().to_string(), "/admin/applications"),
            ("Users", users.to_string(), "/admin/users"),
            ("Groups", groups.to_string(), "/admin/users"),
            ("Provisioning failures", failed.to_string(), "/admin/provisioning"),
        ],
        broken: catalog.broken.iter().map(|(id, reason)| (id.clone(), reason.clone())).collect(),
        idp,
        key_subject: key.certificate().subject().to_string(),
        key_expiry: Expiry::of(key.certificate().not_after(), now),
    };
    show(StatusCode::OK, &overview)
}
