//! The admin API's views of users, groups, applications, tokens and the identity source, built
//! from the hub's state — what the API, the console and the console's chain checks show — and
//! the group changes the API and the console share.

use crossfed_store::{ApiToken, Group, GroupStore, TokenStore, User, UserStore};

use crate::apps::catalog::CatalogEntry;
use crate::state::Hub;
use crate::tokens;
use crate::views::{
    ApplicationView, AssignmentView, CertificateView, CreateGroup, GroupView, IdentitySourceView, TokenView, UserView,
};
use crate::web::error::ApiError;

/// A user as the API shows it: the record and its groups' names.
pub async fn user_view(hub: &Hub, user: User) -> Result<UserView, ApiError> {
    let groups = hub.directory.group_names(&user).await?;
    Ok(UserView { user, groups })
}

/// The tokens of `purpose` as the API lists them, newest first, at the hub's clock: each with
/// its state, days left and, for those [`tokens::expiry_warnings`] names, what to run.
pub async fn token_views(hub: &Hub, purpose: &str) -> Result<Vec<TokenView>, ApiError> {
    let now = hub.clock.unix();
    let records: Vec<ApiToken> = hub.store.list_tokens(purpose).await?;
    let warnings = tokens::expiry_warnings(&records, now);
    Ok(records
        .into_iter()
        .map(|record| {
            let warning = warnings.iter().find(|w| w.id == record.id).map(|w| w.message(&hub.base_url, now));
            TokenView {
                state: tokens::state(&record, now),
                days_left: record.expires_at.map(|e| tokens::days_left(e, now)),
                warning,
                record,
            }
        })
        .collect())
}

/// A group as the API shows it: the record and its members' names.
pub async fn group_view(hub: &Hub, group: Group) -> Result<GroupView, ApiError> {
    let mut members = Vec::new();
    for id in hub.store.members(&group.id).await? {
        if let Some(user) = hub.store.get_user(&id).await? {
            members.push(user.user_name);
        }
    }
    members.sort_by_key(|m| m.to_lowercase());
    Ok(GroupView { group, members })
}

/// Creates a group with its members (an unknown member refuses it), audited as `actor`.
pub async fn create_group(hub: &Hub, actor: &str, request: &CreateGroup) -> Result<GroupView, ApiError> {
    // Members are resolved first: an unknown one refuses the request before the group exists.
    let mut member_ids = Vec::with_capacity(request.members.len());
    for member in &request.members {
        member_ids.push(hub.directory.find_user(member).await?.id);
    }
    let group =
        hub.directory.create_group(actor, &request.display_name, request.external_id.as_deref(), &member_ids).await?;
    group_view(hub, group).await
}

/// Adds a user to a group or removes them (each named by ID or name), audited as `actor`.
pub async fn change_membership(
    hub: &Hub,
    actor: &str,
    group_key: &str,
    user_key: &str,
    add: bool,
) -> Result<GroupView, ApiError> {
    let group = hub.directory.find_group(group_key).await?;
    let user = hub.directory.find_user(user_key).await?;
    hub.directory.change_membership(actor, &group, &user, add).await?;
    group_view(hub, group).await
}

/// The identity source's view; `None` with the built-in directory.
pub fn identity_source_view(hub: &Hub) -> Option<IdentitySourceView> {
    let source = hub.identity_source.as_ref()?;
    let idp = source.idp();
    let certificates: Vec<CertificateView> =
        idp.idp.as_ref().map(|d| d.signing_certificates.iter().map(CertificateView::of).collect()).unwrap_or_default();
    Some(IdentitySourceView {
        idp_entity_id: idp.entity_id.clone(),
        valid_until: idp.valid_until.map(|t| t.unix()),
        certificates,
        sp_entity_id: source.sp_entity_id.clone(),
        acs_url: source.acs_url.clone(),
        provisioning: source.provisioning,
        allow_idp_initiated: source.allow_idp_initiated,
    })
}

/// An application as the API shows it.
pub fn application_view(hub: &Hub, id: &str, entry: &CatalogEntry) -> ApplicationView {
    ApplicationView {
        id: id.to_string(),
        name: entry.app.name.clone(),
        template: entry.stored.template.clone(),
        managed_by: entry.stored.managed_by,
        version: entry.stored.version,
        acs_url: entry.app.acs_url.clone(),
        audience: entry.app.audience.clone(),
        relay_state: entry.app.relay_state.clone(),
        entity_id: hub.app_entity_id(id),
        metadata_url: format!("{}/saml/apps/{id}/metadata", hub.base_url),
        definition: entry.spec.redacted(),
        assignments: entry
            .assignments
            .iter()
            .map(|a| AssignmentView { kind: a.kind, name: a.name.clone(), managed_by: a.managed_by })
            .collect(),
        assigned_users: entry.assignees.users.iter().map(ToString::to_string).collect(),
        assigned_groups: entry.assignees.groups.iter().map(ToString::to_string).collect(),
    }
}

/// Every application as the API shows it, read fresh from the store.
pub async fn application_views(hub: &Hub) -> Result<Vec<ApplicationView>, ApiError> {
    let catalog = hub.apps().fresh().await?;
    Ok(catalog.entries.iter().map(|(id, e)| application_view(hub, id, e)).collect())
}
