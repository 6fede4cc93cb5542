//! The changes administrators make to applications and their assignments — through the admin
//! API or the console, which both come here — each checked, written, audited as its actor, and
//! followed by a fresh catalog (every handler sees it at once) and a provisioning pass (which
//! follows assignments). Also the preview: what an application would receive for a user.

use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_store::{
    ApplicationStore, Assignment, AssignmentStore, ManagedBy, Outcome, PrincipalKind, PrincipalName, Store, StoreError,
    StoredApplication,
};
use thiserror::Error;

use crate::apps::catalog::{
    Assignees, Catalog, CatalogCache, CatalogEntry, SameServiceProvider, check_unique_sp, stored_application,
};
use crate::apps::identity::{CheckError, check_identity};
use crate::apps::model::Application;
use crate::apps::spec::{ApplicationSpec, SpecError};
use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use crate::directory::{Directory, DirectoryError};
use crate::views::{Preview, PreviewAttribute};

#[derive(Debug, Error)]
pub enum ChangeError {
    #[error(
        "the change was stored but its audit record could not be ({0}); it is not acknowledged: check the application before retrying"
    )]
    Unrecorded(#[from] AuditError),
    #[error(transparent)]
    Invalid(Box<SpecError>),
    #[error(transparent)]
    SameServiceProvider(#[from] SameServiceProvider),
    #[error(
        "application {0} is declared in the hub's configuration file, which is applied at every start; change it there"
    )]
    ManagedByConfig(String),
    #[error("the assignment of {kind} {name} to {id} is declared in the hub's configuration file; remove it there")]
    AssignmentManagedByConfig { kind: &'static str, name: String, id: String },
    /// A stored application that no longer compiles (from an older version, say).
    #[error("{reason}; replace it with PUT or delete it")]
    Broken { id: String, reason: String },
    #[error("no application {0:?}")]
    NoSuchApplication(String),
    #[error("no application {0:?}; create it with POST")]
    NothingToReplace(String),
    #[error("{kind} {principal:?} is not assigned to application {id}")]
    NotAssigned { kind: &'static str, principal: String, id: String },
    #[error("application {0} vanished")]
    Vanished(String),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<SpecError> for ChangeError {
    fn from(e: SpecError) -> Self {
        ChangeError::Invalid(Box::new(e))
    }
}

/// The applications of the hub, for those who change them.
pub struct Applications<'a> {
    pub store: &'a Store,
    pub catalog: &'a CatalogCache,
    pub directory: &'a Directory,
    pub audit: &'a Auditor,
    pub clock: &'a Clock,
}

impl Applications<'_> {
    /// Every application, read fresh from the store.
    pub async fn fresh(&self) -> Result<Arc<Catalog>, StoreError> {
        self.catalog.reload(self.store).await
    }

    /// Application `id` of a freshly loaded catalog.
    pub async fn entry(&self, id: &str) -> Result<(Arc<Catalog>, CatalogEntry), ChangeError> {
        let catalog = self.fresh().await?;
        if let Some(reason) = catalog.broken.get(id) {
            return Err(ChangeError::Broken { id: id.to_string(), reason: reason.clone() });
        }
        let entry = catalog.get(id).cloned().ok_or_else(|| ChangeError::NoSuchApplication(id.to_string()))?;
        Ok((catalog, entry))
    }

    /// After a change: every handler sees it at once, and provisioning follows assignments.
    async fn changed(&self, id: &str) -> Result<(Arc<Catalog>, CatalogEntry), ChangeError> {
        let catalog = self.fresh().await?;
        self.directory.changes().notify_waiters();
        let entry = catalog.get(id).cloned().ok_or_else(|| ChangeError::Vanished(id.to_string()))?;
        Ok((catalog, entry))
    }

    /// Compiles `spec` as application `id` and checks its SP is unique.
    fn check(catalog: &Catalog, id: &str, spec: &ApplicationSpec) -> Result<(), ChangeError> {
        let app = spec.compile(id)?;
        let others = catalog.entries.iter().map(|(other, e)| (other.as_str(), &e.app));
        Ok(check_unique_sp(others, id, &app)?)
    }

    /// Adds application `id` (checked first), audited as `actor`.
    pub async fn create(&self, actor: &str, id: &str, spec: &ApplicationSpec) -> Result<CatalogEntry, ChangeError> {
        let catalog = self.fresh().await?;
        Self::check(&catalog, id, spec)?;
        let record = stored_application(id, spec, ManagedBy::Api)?;
        self.store.create_application(&record, self.clock.unix()).await?;
        self.audit.record(actor, "application.create", Some(id), Outcome::Success, record.template.clone()).await?;
        Ok(self.changed(id).await?.1)
    }

    /// Replaces application `id`'s definition (checked first; secrets left empty keep their
    /// stored value). The configuration file's applications are refused.
    pub async fn replace(&self, actor: &str, id: &str, mut spec: ApplicationSpec) -> Result<CatalogEntry, ChangeError> {
        let catalog = self.fresh().await?;
        // A broken application may be replaced: that is how it is repaired.
        let current =
            self.store.get_application(id).await?.ok_or_else(|| ChangeError::NothingToReplace(id.to_string()))?;
        if current.managed_by == ManagedBy::Config {
            return Err(ChangeError::ManagedByConfig(id.to_string()));
        }
        if let Some(previous) = catalog.get(id) {
            spec.keep_secrets_of(&previous.spec);
        }
        Self::check(&catalog, id, &spec)?;
        let record = stored_application(id, &spec, ManagedBy::Api)?;
        let record = StoredApplication { version: current.version, created_at: current.created_at, ..record };
        self.store.update_application(&record, self.clock.unix()).await?;
        self.audit.record(actor, "application.update", Some(id), Outcome::Success, record.template.clone()).await?;
        Ok(self.changed(id).await?.1)
    }

    /// Deletes application `id` and its assignments; the configuration file's are refused.
    pub async fn delete(&self, actor: &str, id: &str) -> Result<(), ChangeError> {
        let current =
            self.store.get_application(id).await?.ok_or_else(|| ChangeError::NoSuchApplication(id.to_string()))?;
        if current.managed_by == ManagedBy::Config {
            return Err(ChangeError::ManagedByConfig(id.to_string()));
        }
        self.store.delete_application(id).await?;
        self.audit.record(actor, "application.delete", Some(id), Outcome::Success, String::new()).await?;
        self.fresh().await?;
        self.directory.changes().notify_waiters();
        Ok(())
    }

    /// The principal's name as the directory spells it; it must exist.
    async fn principal_name(&self, kind: PrincipalKind, key: &str) -> Result<String, ChangeError> {
        Ok(match kind {
            PrincipalKind::User => self.directory.find_user(key).await?.user_name,
            PrincipalKind::Group => self.directory.find_group(key).await?.display_name,
        })
    }

    /// Assigns (`add`) or unassigns a user or group to application `id`, audited as `actor`.
    /// Returns whether anything changed, and the application as it is now.
    pub async fn change_assignment(
        &self,
        actor: &str,
        id: &str,
        kind: PrincipalKind,
        principal: &str,
        add: bool,
    ) -> Result<(bool, CatalogEntry), ChangeError> {
        let (_, entry) = self.entry(id).await?;
        let changed_anything = if add {
            let name = self.principal_name(kind, principal).await?;
            let assignment = Assignment {
                application_id: id.to_string(),
                kind,
                name: name.clone(),
                managed_by: ManagedBy::Api,
                created_at: self.clock.unix(),
            };
            let added = self.store.assign(&assignment).await?;
            if added {
                let detail = format!("{} {name}", kind.as_str());
                self.audit.record(actor, "application.assign", Some(id), Outcome::Success, detail).await?;
            }
            added
        } else {
            // The principal may be gone from the directory already; match the assignment by name.
            let existing = entry
                .assignments
                .iter()
                .find(|a| a.kind == kind && PrincipalName::same(&a.name, principal))
                .ok_or_else(|| ChangeError::NotAssigned {
                    kind: kind.as_str(),
                    principal: principal.to_string(),
                    id: id.to_string(),
                })?;
            if existing.managed_by == ManagedBy::Config {
                return Err(ChangeError::AssignmentManagedByConfig {
                    kind: kind.as_str(),
                    name: existing.name.clone(),
                    id: id.to_string(),
                });
            }
            self.store.unassign(id, kind, &existing.name).await?;
            let detail = format!("{} {}", kind.as_str(), existing.name);
            self.audit.record(actor, "application.unassign", Some(id), Outcome::Success, detail).await?;
            true
        };
        let (_, entry) = self.changed(id).await?;
        Ok((changed_anything, entry))
    }

    /// What application `id` would receive for the user named (or with the ID) `user_key`:
    /// NameID and attributes, or the mapping error a launch would show. Nothing is signed or
    /// sent.
    pub async fn preview(&self, id: &str, user_key: &str) -> Result<Preview, ChangeError> {
        let (_, entry) = self.entry(id).await?;
        self.preview_of(&entry.app, &entry.assignees, user_key).await
    }

    /// What `app` (stored or a draft) would send the user named (or with the ID) `user_key`, or
    /// why a launch would be refused (a missing value, a value another user yields too).
    pub async fn preview_of(
        &self,
        app: &Application,
        assignees: &Assignees,
        user_key: &str,
    ) -> Result<Preview, ChangeError> {
        let user = self.directory.find_user(user_key).await?;
        let values = self.directory.user_values(&user).await?;
        let assigned = assignees.includes(&user.user_name, &values.groups);
        let (name_id, name_id_format, attributes, error) = match app.assertion_contents(&values) {
            Ok((name_id, attributes)) => (
                Some(name_id.value),
                name_id.format,
                attributes.into_iter().map(|a| PreviewAttribute { name: a.name, values: a.values }).collect(),
                None,
            ),
            Err(e) => (None, None, Vec::new(), Some(e.to_string())),
        };
        let error = match (error, check_identity(self.store, app, &user, &values).await) {
            (Some(error), _) => Some(error),
            (None, Ok(())) => None,
            (None, Err(CheckError::Shared(shared))) => Some(format!("a launch is refused: {}", shared.audit_detail())),
            (None, Err(CheckError::Store(e))) => return Err(e.into()),
        };
        Ok(Preview {
            user: user.user_name.clone(),
            assigned,
            active: user.active,
            acs_url: app.acs_url.clone(),
            audience: app.audience.clone(),
            relay_state: app.relay_state.clone(),
            name_id,
            name_id_format,
            attributes,
            error,
        })
    }
}
