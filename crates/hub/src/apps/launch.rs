//! Launching an application: the signed Response the hub posts to the application's ACS, built
//! from the application's mappings for one signed-in user, and the launch's audit record. The
//! Response is built and signed on a signing thread, which then queues the audit record itself:
//! the request is woken once, when the record is stored.

use std::sync::Arc;

use crossfed_clock::Clock;
use crossfed_saml::{BuiltResponse, ResponseSpec, SignedParts, Timestamp, build_response, ns};
use crossfed_store::{Outcome, Store, StoreError, User, UserStore};
use crossfed_xmldsig::{DsigError, SigningKey};
use thiserror::Error;

use crate::apps::catalog::{Catalog, CatalogCache, CatalogEntry};
use crate::apps::identity::{CheckError, SharedIdentity, check_identity};
use crate::apps::mapping::{MappingError, UserValues};
use crate::apps::model::{Application, Signing};
use crate::audit::Auditor;
use crate::audit_queue::AuditError;
use crate::cpu_pool::PoolError;
use crate::directory::Directory;
use crate::keys::Keys;
use crate::metrics::Metrics;
use crate::sessions::Session;

#[derive(Debug, Error)]
pub enum LaunchError {
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error("signing the response failed: {0}")]
    Signing(#[from] DsigError),
    #[error("application {0:?} is gone")]
    Gone(String),
    #[error("the application's signing key: {0}")]
    Key(String),
    #[error(transparent)]
    Pool(#[from] PoolError),
    #[error("the launch's audit record could not be stored ({0}), so no assertion was issued; try again shortly")]
    Unrecorded(AuditError),
}

/// The hub's side of one login into an application.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// The hub's IdP entity ID for this application.
    pub issuer: &'a str,
    /// The AuthnRequest answered, for SP-initiated logins.
    pub in_response_to: Option<&'a str>,
    /// When and how the user authenticated (from the hub session).
    pub authn_instant: Timestamp,
    pub session_index: &'a str,
}

/// Builds and signs the Response for `user` at `now`.
pub fn build_launch_response(
    app: &Application,
    launch: &Launch<'_>,
    user: &UserValues,
    key: &SigningKey,
    now: Timestamp,
) -> Result<BuiltResponse, LaunchError> {
    let (name_id, attributes) = app.assertion_contents(user)?;
    let spec = ResponseSpec {
        issuer: launch.issuer.to_string(),
        destination: app.acs_url.clone(),
        audiences: vec![app.audience.clone()],
        in_response_to: launch.in_response_to.map(str::to_string),
        name_id,
        session_index: launch.session_index.to_string(),
        authn_instant: launch.authn_instant,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.to_string(),
        attributes,
        lifetime_seconds: app.assertion_lifetime_seconds,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: match app.signing {
            Signing::Assertion => SignedParts::Assertion,
            Signing::Response => SignedParts::Response,
            Signing::Both => SignedParts::Both,
        },
    };
    Ok(build_response(&spec, now, key)?)
}

/// Why a launch was refused; each says what the person can do.
#[derive(Debug, Error)]
pub enum LaunchRefused {
    #[error("There is no application {0:?}.")]
    NoSuchApplication(String),
    #[error("Your account no longer exists or is disabled.")]
    AccountUnavailable,
    #[error("{0}")]
    DirectoryUnavailable(StoreError),
    #[error("{0} is not assigned to you; ask an administrator to assign it.")]
    NotAssigned(String),
    #[error(transparent)]
    SharedIdentity(SharedIdentity),
    #[error("{0}")]
    CannotBuild(LaunchError),
    #[error("{0}")]
    Unrecorded(LaunchError),
}

/// A signed Response, ready for the browser to post.
#[derive(Debug)]
pub struct Posted {
    pub acs_url: String,
    pub xml: String,
    pub relay_state: Option<String>,
}

/// What a launch needs of the hub, borrowed from its state.
pub struct Launcher<'a> {
    pub store: &'a Store,
    pub applications: &'a CatalogCache,
    pub directory: &'a Directory,
    pub keys: &'a Keys,
    pub audit: &'a Auditor,
    pub clock: &'a Clock,
    pub base_url: &'a str,
    pub metrics: &'a Metrics,
}

impl Launcher<'_> {
    /// The signed Response for application `id` and the signed-in `session`, answering
    /// `in_response_to` when an application asked; refused (and audited) when the user is not
    /// assigned, when another user yields the value that identifies them to the application
    /// ([`check_identity`]), or when they lack a mapped value. Every launch is counted by its
    /// outcome.
    pub async fn respond(
        &self,
        id: &str,
        session: &Session,
        in_response_to: Option<&str>,
        relay_state: Option<&str>,
    ) -> Result<Posted, LaunchRefused> {
        let result = self.respond_uncounted(id, session, in_response_to, relay_state).await;
        match &result {
            Ok(_) => self.metrics.launch(id, "success"),
            // The id came from a URL: only the catalog's ids become labels.
            Err(e @ LaunchRefused::NoSuchApplication(_)) => self.metrics.launch("(unknown)", e.outcome()),
            Err(e) => self.metrics.launch(id, e.outcome()),
        }
        result
    }

    async fn respond_uncounted(
        &self,
        id: &str,
        session: &Session,
        in_response_to: Option<&str>,
        relay_state: Option<&str>,
    ) -> Result<Posted, LaunchRefused> {
        let catalog = self.catalog_with(id).await?;
        // A store that does not answer says so; only a user who is gone or disabled is told so.
        let user = match self.store.get_user(&session.user_id).await {
            Ok(Some(u)) if u.active => u,
            Ok(_) => return Err(LaunchRefused::AccountUnavailable),
            Err(e) => return Err(LaunchRefused::DirectoryUnavailable(e)),
        };
        let (catalog, values) = self.assigned(catalog, id, &user).await?;
        let Some(CatalogEntry { app, .. }) = catalog.get(id) else {
            return Err(LaunchRefused::NoSuchApplication(id.to_string()));
        };
        match check_identity(self.store, app, &user, &values).await {
            Ok(()) => {}
            Err(CheckError::Store(e)) => return Err(LaunchRefused::DirectoryUnavailable(e)),
            Err(CheckError::Shared(shared)) => return Err(LaunchRefused::SharedIdentity(shared)),
        }
        let built = match self.sign(&catalog, id, session, in_response_to, values).await {
            Ok(b) => b,
            Err(e @ LaunchError::Unrecorded(_)) => return Err(LaunchRefused::Unrecorded(e)),
            Err(e) => {
                self.audit.note(&session.user_name, "launch", Some(id), Outcome::Failure, e.to_string()).await;
                return Err(LaunchRefused::CannotBuild(e));
            }
        };
        let relay_state = relay_state.or(app.relay_state.as_deref()).map(str::to_string);
        Ok(Posted { acs_url: app.acs_url.clone(), xml: built.xml, relay_state })
    }

    /// The catalog holding application `id`: the one in memory, or the store's when it changed
    /// since (an application made a moment ago through another instance).
    async fn catalog_with(&self, id: &str) -> Result<Arc<Catalog>, LaunchRefused> {
        let catalog = self.applications.current(self.store).await;
        if catalog.get(id).is_some() {
            return Ok(catalog);
        }
        match self.applications.if_changed(self.store).await {
            Some(fresh) if fresh.get(id).is_some() => Ok(fresh),
            _ => Err(LaunchRefused::NoSuchApplication(id.to_string())),
        }
    }

    /// What application `id`'s mappings read of `user`, who must be assigned to it: by the
    /// catalog in memory or, before refusing, by the store's when it changed since. The one in
    /// memory may be a second old, and an assignment made or carried to a new name by a rename
    /// in that second must not be refused.
    async fn assigned(
        &self,
        catalog: Arc<Catalog>,
        id: &str,
        user: &User,
    ) -> Result<(Arc<Catalog>, UserValues), LaunchRefused> {
        if let Some(values) = self.values_if_assigned(&catalog, id, user).await? {
            return Ok((catalog, values));
        }
        if let Some(fresh) = self.applications.if_changed(self.store).await
            && let Some(values) = self.values_if_assigned(&fresh, id, user).await?
        {
            return Ok((fresh, values));
        }
        Err(LaunchRefused::NotAssigned(catalog.get(id).map_or(id, |e| e.app.name.as_str()).to_string()))
    }

    /// What the mappings of application `id` of `catalog` read of `user`, if `user` is assigned.
    async fn values_if_assigned(
        &self,
        catalog: &Catalog,
        id: &str,
        user: &User,
    ) -> Result<Option<UserValues>, LaunchRefused> {
        let Some(CatalogEntry { app, assignees, .. }) = catalog.get(id) else { return Ok(None) };
        // The groups are read only when they matter: for an assignment through a group, or a
        // mapping that sends them.
        let direct = assignees.includes_user(&user.user_name);
        let values = self
            .directory
            .user_values_with(user, !direct || app.uses_groups())
            .await
            .map_err(LaunchRefused::DirectoryUnavailable)?;
        Ok(assignees.includes(&user.user_name, &values.groups).then_some(values))
    }

    /// Builds and signs the Response for application `id` of `catalog` on a signing thread, which
    /// then queues the launch's audit record itself: the request is woken once, when the record
    /// is stored, and gets the Response only then (fail closed: a Response whose record could not
    /// be stored is never answered). A Response that cannot be built is an error, audited by the
    /// caller.
    async fn sign(
        &self,
        catalog: &Arc<Catalog>,
        id: &str,
        session: &Session,
        in_response_to: Option<&str>,
        values: UserValues,
    ) -> Result<BuiltResponse, LaunchError> {
        let own_key = catalog.get(id).is_some_and(|entry| entry.app.own_key);
        let key = match self.keys.for_application(id, own_key) {
            Ok(ring) => ring.signing_key(),
            Err(e) => return Err(LaunchError::Key(e.to_string())),
        };
        let (catalog, id) = (catalog.clone(), id.to_string());
        let issuer = crate::apps::metadata::entity_id(self.base_url, &id);
        let in_response_to = in_response_to.map(str::to_string);
        let (session_index, user_name) = (session.session_index.clone(), session.user_name.clone());
        let now = Timestamp::from(self.clock.now());
        let authn_instant = Timestamp::from_unix(session.created).unwrap_or(now);
        let audit = self.audit.clone();
        let signed = crate::cpu_pool::signing().run_answering_later(move |reply| {
            let built = catalog.get(&id).ok_or_else(|| LaunchError::Gone(id.clone())).and_then(|entry| {
                let launch = Launch {
                    issuer: &issuer,
                    in_response_to: in_response_to.as_deref(),
                    authn_instant,
                    session_index: &session_index,
                };
                build_launch_response(&entry.app, &launch, &values, &key, now)
            });
            match built {
                Ok(built) => {
                    let detail = format!("assertion {}", built.assertion_id);
                    let event = audit.event(&user_name, "launch", Some(&id), Outcome::Success, detail);
                    audit.queue().append_then(event, move |stored| {
                        let _ = reply.send(stored.map(|()| built).map_err(LaunchError::Unrecorded));
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            }
        });
        signed.await?
    }
}

impl LaunchRefused {
    /// The refusal's stable kind, for the request's log line.
    pub fn kind(&self) -> &'static str {
        match self {
            LaunchRefused::NoSuchApplication(_) => "launch.no_such_application",
            LaunchRefused::AccountUnavailable => "launch.account_unavailable",
            LaunchRefused::DirectoryUnavailable(_) => "launch.directory_unavailable",
            LaunchRefused::NotAssigned(_) => "launch.not_assigned",
            LaunchRefused::SharedIdentity(_) => "launch.identity_not_unique",
            LaunchRefused::CannotBuild(_) => "launch.cannot_build",
            LaunchRefused::Unrecorded(_) => "launch.unrecorded",
        }
    }

    /// The refusal as a launch's outcome in the metrics: its kind without the `launch.` prefix.
    pub fn outcome(&self) -> &'static str {
        let kind = self.kind();
        kind.strip_prefix("launch.").unwrap_or(kind)
    }

    /// The page title a person sees.
    pub fn title(&self) -> &'static str {
        match self {
            LaunchRefused::NoSuchApplication(_) => "No such application",
            LaunchRefused::AccountUnavailable => "Account unavailable",
            LaunchRefused::DirectoryUnavailable(_) => "Directory unavailable",
            LaunchRefused::NotAssigned(_) => "Not assigned",
            LaunchRefused::SharedIdentity(_) => "Identity not unique",
            LaunchRefused::CannotBuild(_) => "Cannot open the application",
            LaunchRefused::Unrecorded(_) => "Audit log unavailable",
        }
    }
}
