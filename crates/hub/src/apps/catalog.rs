//! Applications as the hub serves them. Their definitions and assignments live in the store —
//! written by the configuration file's declarative bootstrap and by the admin API — and are
//! compiled into a [`Catalog`] kept in memory. Each instance checks the store's catalog
//! generation at most once a second, so a change made through another instance shows within
//! about a second, without a query per request.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossfed_store::{
    ApplicationStore, Assignment, AssignmentStore, ManagedBy, PrincipalKind, PrincipalName, PutOutcome, Store,
    StoreError, StoredApplication,
};

use crate::apps::model::{Application, Kind};
use crate::apps::spec::{self, ApplicationSpec, SpecError};
use crate::config::ApplicationEntry;

/// Who may open an application: users by name, and members of groups by group name, compared
/// as the directory compares names ([`PrincipalName`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignees {
    pub users: BTreeSet<PrincipalName>,
    pub groups: BTreeSet<PrincipalName>,
}

impl Assignees {
    /// Whether the user is assigned, directly or through one of `group_names`.
    pub fn includes(&self, user_name: &str, group_names: &[String]) -> bool {
        self.includes_user(user_name) || group_names.iter().any(|g| self.groups.contains(&PrincipalName::new(g)))
    }

    /// Whether the user is assigned directly, by name.
    pub fn includes_user(&self, user_name: &str) -> bool {
        self.users.contains(&PrincipalName::new(user_name))
    }
}

/// One application, compiled, with who may open it.
#[derive(Debug, Clone)]
pub struct CatalogEntry {
    pub app: Application,
    pub assignees: Assignees,
    pub spec: ApplicationSpec,
    pub stored: StoredApplication,
    pub assignments: Vec<Assignment>,
}

/// Every application, as of one catalog generation.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub generation: i64,
    pub entries: BTreeMap<String, CatalogEntry>,
    /// Stored applications that do not compile (a definition from an older version, say), by
    /// ID with the reason; they cannot be launched and the admin API shows why.
    pub broken: BTreeMap<String, String>,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&CatalogEntry> {
        self.entries.get(id)
    }

    /// The custom application whose SP entity ID is `audience` (the issuer of its requests).
    pub fn by_sp_entity_id(&self, audience: &str) -> Option<(&String, &CatalogEntry)> {
        self.entries.iter().find(|(_, e)| e.app.kind == Kind::CustomSaml && e.app.audience == audience)
    }

    /// Reads and compiles every application and assignment.
    pub async fn load(store: &Store) -> Result<Catalog, StoreError> {
        // The generation is read first: a change made during the load bumps it past this value,
        // so the next check loads again.
        let generation = store.catalog_generation().await?;
        let stored = store.list_applications().await?;
        let mut assignments: BTreeMap<String, Vec<Assignment>> = BTreeMap::new();
        for a in store.list_assignments(None).await? {
            assignments.entry(a.application_id.clone()).or_default().push(a);
        }
        let mut catalog = Catalog { generation, ..Catalog::default() };
        for stored in stored {
            let compiled = serde_json::from_str::<ApplicationSpec>(&stored.definition)
                .map_err(|source| SpecError::Unreadable { id: stored.id.clone(), source })
                .and_then(|spec| spec.compile(&stored.id).map(|app| (spec, app)));
            match compiled {
                Ok((spec, app)) => {
                    let assignments = assignments.remove(&stored.id).unwrap_or_default();
                    let assignees = assignees(&assignments);
                    catalog
                        .entries
                        .insert(stored.id.clone(), CatalogEntry { app, assignees, spec, stored, assignments });
                }
                Err(reason) => {
                    tracing::warn!("{reason}");
                    catalog.broken.insert(stored.id, reason.to_string());
                }
            }
        }
        Ok(catalog)
    }
}

fn assignees(assignments: &[Assignment]) -> Assignees {
    let names = |kind| assignments.iter().filter(|a| a.kind == kind).map(|a| PrincipalName::new(&a.name)).collect();
    Assignees { users: names(PrincipalKind::User), groups: names(PrincipalKind::Group) }
}

/// The catalog every handler reads.
#[derive(Debug)]
pub struct CatalogCache {
    current: std::sync::RwLock<Arc<Catalog>>,
    /// When the store's generation was last compared, in milliseconds since `started`.
    checked_at_ms: AtomicU64,
    started: Instant,
}

const CHECK_EVERY_MS: u64 = 1_000;

impl CatalogCache {
    pub fn new(catalog: Catalog) -> Self {
        CatalogCache {
            current: std::sync::RwLock::new(Arc::new(catalog)),
            checked_at_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Milliseconds since the cache was made, on the monotonic clock (a check interval, not a
    /// time of day).
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The catalog as last loaded, without asking the store.
    pub fn snapshot(&self) -> Arc<Catalog> {
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current catalog: reloaded first when another instance (or this one) changed it. A
    /// store that cannot be read keeps the last catalog serving.
    pub async fn current(&self, store: &Store) -> Arc<Catalog> {
        let checked = self.checked_at_ms.load(Ordering::Relaxed);
        let now = self.now_ms();
        // One request per second does the check; the others go on with what is loaded.
        if now.saturating_sub(checked) < CHECK_EVERY_MS
            || self.checked_at_ms.compare_exchange(checked, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return self.snapshot();
        }
        let known = self.snapshot();
        match store.catalog_generation().await {
            Ok(generation) if generation == known.generation => known,
            Ok(_) => self.reload(store).await.unwrap_or(known),
            Err(e) => {
                tracing::warn!("reading the application catalog's generation: {e}");
                known
            }
        }
    }

    /// The catalog read again from the store if the store's changed since it was loaded (a change
    /// the once-a-second check has not seen yet); `None` when it did not, or cannot be read.
    pub async fn if_changed(&self, store: &Store) -> Option<Arc<Catalog>> {
        let known = self.snapshot();
        match store.catalog_generation().await {
            Ok(generation) if generation != known.generation => self.reload(store).await.ok(),
            _ => None,
        }
    }

    /// Loads the catalog from the store now (after a change this instance made).
    pub async fn reload(&self, store: &Store) -> Result<Arc<Catalog>, StoreError> {
        let loaded = Arc::new(Catalog::load(store).await?);
        let mut guard = match self.current.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Another reload may have finished first with a newer generation.
        if loaded.generation >= guard.generation {
            *guard = loaded.clone();
        }
        self.checked_at_ms.store(self.now_ms(), Ordering::Relaxed);
        Ok(guard.clone())
    }
}

/// The record stored for `spec` under `id`.
pub fn stored_application(id: &str, spec: &ApplicationSpec, owner: ManagedBy) -> Result<StoredApplication, SpecError> {
    Ok(StoredApplication {
        id: id.to_string(),
        name: spec.name.clone(),
        template: spec.template().to_string(),
        definition: serde_json::to_string(spec).map_err(|source| SpecError::Encoding { id: id.to_string(), source })?,
        managed_by: owner,
        created_at: 0,
        updated_at: 0,
        version: 0,
    })
}

/// Two custom applications with one SP entity ID would make its requests ambiguous: refuses
/// `app` (to be stored as `id`) if one of `others` has its entity ID.
pub fn check_unique_sp<'a>(
    others: impl IntoIterator<Item = (&'a str, &'a Application)>,
    id: &str,
    app: &Application,
) -> Result<(), SameServiceProvider> {
    if app.kind != Kind::CustomSaml {
        return Ok(());
    }
    for (other, known) in others {
        if other != id && known.kind == Kind::CustomSaml && known.audience == app.audience {
            return Err(SameServiceProvider {
                first: other.to_string(),
                second: id.to_string(),
                entity_id: app.audience.clone(),
            });
        }
    }
    Ok(())
}

/// Two custom applications would be one service provider.
#[derive(Debug, thiserror::Error)]
#[error(
    "applications {first:?} and {second:?} would be the same service provider ({entity_id}); its requests could reach only one"
)]
pub struct SameServiceProvider {
    pub first: String,
    pub second: String,
    pub entity_id: String,
}

/// Why the configuration file's applications could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
    #[error(transparent)]
    SameServiceProvider(#[from] SameServiceProvider),
    #[error("{what}: {source}")]
    Store { what: String, source: StoreError },
}

fn store_error(what: impl Into<String>) -> impl FnOnce(StoreError) -> ApplyError {
    let what = what.into();
    move |source| ApplyError::Store { what, source }
}

/// Makes the store hold exactly the configuration file's applications and assignments (those it
/// owns); applications and assignments made through the admin API are left alone. Returns what
/// changed, for the start-up log. Idempotent.
pub async fn apply_config(store: &Store, entries: &[ApplicationEntry], now: i64) -> Result<Vec<String>, ApplyError> {
    let mut changes = Vec::new();
    let mut declared: Vec<(String, ApplicationSpec, Application)> = Vec::new();
    for entry in entries {
        spec::check_id(&entry.id)?;
        let whose = format!("application {}", entry.id);
        let spec = entry.spec()?.with_metadata_read(&whose).await?;
        let app = spec.compile(&entry.id)?;
        if declared.iter().any(|(id, _, _)| id == &entry.id) {
            return Err(SpecError::UsedTwice(entry.id.clone()).into());
        }
        check_unique_sp(declared.iter().map(|(id, _, app)| (id.as_str(), app)), &entry.id, &app)?;
        declared.push((entry.id.clone(), spec, app));
    }
    let existing = Catalog::load(store).await.map_err(store_error("reading the applications"))?;
    for ((id, spec, app), entry) in declared.iter().zip(entries) {
        if let Some(other) = existing.get(id)
            && other.stored.managed_by == ManagedBy::Api
        {
            changes
                .push(format!("application {id} was made through the admin API; the configuration file owns it now"));
        }
        // The file's own applications replace each other; only the API's can clash with them.
        let from_api = existing
            .entries
            .iter()
            .filter(|(other, e)| e.stored.managed_by == ManagedBy::Api && !declared.iter().any(|(d, _, _)| d == *other))
            .map(|(other, e)| (other.as_str(), &e.app));
        check_unique_sp(from_api, id, app)?;
        let record = stored_application(id, spec, ManagedBy::Config)?;
        match store.put_application(&record, now).await.map_err(store_error(format!("application {id}")))? {
            PutOutcome::Created => changes.push(format!("created application {id}")),
            PutOutcome::Updated => changes.push(format!("updated application {id}")),
            PutOutcome::Unchanged => {}
        }
        let wanted: Vec<(PrincipalKind, String)> = entry
            .assigned_users
            .iter()
            .map(|u| (PrincipalKind::User, u.clone()))
            .chain(entry.assigned_groups.iter().map(|g| (PrincipalKind::Group, g.clone())))
            .collect();
        let (added, removed) = store
            .replace_assignments(id, ManagedBy::Config, &wanted, now)
            .await
            .map_err(store_error(format!("application {id}: assignments")))?;
        if added + removed > 0 {
            changes.push(format!("application {id}: {added} assignments added, {removed} removed"));
        }
    }
    for stored in store.list_applications().await.map_err(store_error("reading the applications"))? {
        if stored.managed_by == ManagedBy::Config && !declared.iter().any(|(id, _, _)| *id == stored.id) {
            let whose = format!("application {}", stored.id);
            store.delete_application(&stored.id).await.map_err(store_error(whose))?;
            changes.push(format!("removed application {} (no longer in the configuration file)", stored.id));
        }
    }
    Ok(changes)
}
