//! Applications as the hub serves them. Their definitions and assignments live in the store —
//! written by the configuration file's declarative bootstrap and by the admin API — and are
//! compiled into a [`Catalog`] kept in memory. Each instance checks the store's catalog
//! generation at most once a second, so a change made through another instance shows within
//! about a second, without a query per request.

pub mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crossfed_store::{
    ApplicationStore, Assignment, ManagedBy, PrincipalKind, PutOutcome, Store, StoreError, StoredApplication,
};

use crate::catalog::{Application, Kind};
use crate::config::ApplicationEntry;
use crate::server::Assignees;
pub use spec::ApplicationSpec;

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
                .map_err(|e| format!("application {}: its stored definition does not read: {e}", stored.id))
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
                    catalog.broken.insert(stored.id, reason);
                }
            }
        }
        Ok(catalog)
    }
}

fn assignees(assignments: &[Assignment]) -> Assignees {
    let names = |kind| assignments.iter().filter(|a| a.kind == kind).map(|a| a.name.clone()).collect();
    Assignees { users: names(PrincipalKind::User), groups: names(PrincipalKind::Group) }
}

/// The catalog every handler reads.
#[derive(Debug)]
pub struct CatalogCache {
    current: std::sync::RwLock<Arc<Catalog>>,
    /// When the store's generation was last compared, in milliseconds.
    checked_at_ms: AtomicI64,
}

const CHECK_EVERY_MS: i64 = 1_000;

fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    now.unix_timestamp() * 1000 + i64::from(now.millisecond())
}

impl CatalogCache {
    pub fn new(catalog: Catalog) -> Self {
        CatalogCache { current: std::sync::RwLock::new(Arc::new(catalog)), checked_at_ms: AtomicI64::new(now_ms()) }
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
        let now = now_ms();
        // One request per second does the check; the others go on with what is loaded.
        if now - checked < CHECK_EVERY_MS
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
        self.checked_at_ms.store(now_ms(), Ordering::Relaxed);
        Ok(guard.clone())
    }
}

/// The record stored for `spec` under `id`.
pub fn stored_application(id: &str, spec: &ApplicationSpec, owner: ManagedBy) -> Result<StoredApplication, String> {
    Ok(StoredApplication {
        id: id.to_string(),
        name: spec.name.clone(),
        template: spec.template().to_string(),
        definition: serde_json::to_string(spec).map_err(|e| format!("application {id}: encoding it: {e}"))?,
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
) -> Result<(), String> {
    if app.kind != Kind::CustomSaml {
        return Ok(());
    }
    for (other, known) in others {
        if other != id && known.kind == Kind::CustomSaml && known.audience == app.audience {
            return Err(format!(
                "applications {other:?} and {id:?} would be the same service provider ({}); its requests could reach only one",
                app.audience
            ));
        }
    }
    Ok(())
}

/// Makes the store hold exactly the configuration file's applications and assignments (those it
/// owns); applications and assignments made through the admin API are left alone. Returns what
/// changed, for the start-up log. Idempotent.
pub async fn apply_config(store: &Store, entries: &[ApplicationEntry], now: i64) -> Result<Vec<String>, String> {
    let mut changes = Vec::new();
    let mut declared: Vec<(String, ApplicationSpec, Application)> = Vec::new();
    for entry in entries {
        spec::check_id(&entry.id)?;
        let whose = format!("application {}", entry.id);
        let spec = entry.spec().with_metadata_read(&whose).await?;
        let app = spec.compile(&entry.id)?;
        if declared.iter().any(|(id, _, _)| id == &entry.id) {
            return Err(format!("application id {:?} is used twice", entry.id));
        }
        check_unique_sp(declared.iter().map(|(id, _, app)| (id.as_str(), app)), &entry.id, &app)?;
        declared.push((entry.id.clone(), spec, app));
    }
    let existing = Catalog::load(store).await.map_err(|e| format!("reading the applications: {e}"))?;
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
        match store.put_application(&record, now).await.map_err(|e| format!("application {id}: {e}"))? {
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
            .map_err(|e| format!("application {id}: assignments: {e}"))?;
        if added + removed > 0 {
            changes.push(format!("application {id}: {added} assignments added, {removed} removed"));
        }
    }
    for stored in store.list_applications().await.map_err(|e| format!("reading the applications: {e}"))? {
        if stored.managed_by == ManagedBy::Config && !declared.iter().any(|(id, _, _)| *id == stored.id) {
            store.delete_application(&stored.id).await.map_err(|e| format!("application {}: {e}", stored.id))?;
            changes.push(format!("removed application {} (no longer in the configuration file)", stored.id));
        }
    }
    Ok(changes)
}
