//! The hub's signing keys, one set per role ([`KeyRole`]): the request key toward the identity
//! source, the assertion key toward applications, and a key of its own for an application that
//! asks for one. Each set lives in files only its owner may read, is created on first start, and
//! rolls over in steps (stage a next key, publish it, activate it, retire the previous one)
//! without a moment where a peer is asked to trust a key it has not been shown.

mod files;
mod ring;
mod role;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crossfed_clock::Clock;
use crossfed_xmldsig::{Certificate, SigningKey};
use time::OffsetDateTime;

pub use files::{KeyError, KeyFiles, Slot, key_file_stem};
pub use ring::{KeyRing, KeySet, RolloverStage};
pub use role::KeyRole;

/// The common name of the certificates the hub makes.
const COMMON_NAME: &str = "crossfed hub";

/// Loads the assertion key pair in `dir` (`signing.key`, `signing.crt`), creating it at `now`
/// when absent: what peers and tools that sign as the hub use.
pub fn load_or_create(dir: &Path, common_name: &str, now: OffsetDateTime) -> Result<SigningKey, KeyError> {
    KeyFiles::new(dir, &KeyRole::Assertion.stem()).load_or_create(common_name, now)
}

/// The staged next certificate of `role` in `dir`, if a rollover is under way.
pub fn next_certificate(dir: &Path, role: &KeyRole) -> Result<Option<Certificate>, KeyError> {
    KeyFiles::new(dir, &role.stem()).certificate(Slot::Next)
}

/// Every role's keys.
#[derive(Debug)]
pub struct Keys {
    pub request: Arc<KeyRing>,
    pub assertion: Arc<KeyRing>,
    /// Applications with a key of their own, loaded (or made) when first asked for.
    applications: RwLock<BTreeMap<String, Arc<KeyRing>>>,
    /// Where the files live; `None` for keys held in memory only (tests).
    dir: Option<PathBuf>,
    clock: Clock,
}

impl Keys {
    /// Loads the keys in `dir`, creating what is missing at `clock`'s time. A hub from before
    /// the roles were separate had one key for both: its request key starts as a copy of it, so
    /// the identity source keeps trusting the hub's requests.
    pub fn load(dir: &Path, clock: Clock) -> Result<Keys, KeyError> {
        let assertion_files = KeyFiles::new(dir, &KeyRole::Assertion.stem());
        let request_files = KeyFiles::new(dir, &KeyRole::Request.stem());
        if request_files.adopt_copy_of(&assertion_files)? {
            tracing::info!(
                "the request key (toward the identity source) starts as a copy of the signing key; each now rolls over on its own"
            );
        }
        let ring = |role: KeyRole, files| KeyRing::load(role, files, COMMON_NAME, clock.clone()).map(Arc::new);
        Ok(Keys {
            request: ring(KeyRole::Request, request_files)?,
            assertion: ring(KeyRole::Assertion, assertion_files)?,
            applications: RwLock::new(BTreeMap::new()),
            dir: Some(dir.to_path_buf()),
            clock,
        })
    }

    /// One key in memory for every role, never rotated (tests).
    pub fn fixed(key: SigningKey) -> Keys {
        let key = Arc::new(key);
        Keys {
            request: Arc::new(KeyRing::fixed(KeyRole::Request, key.clone())),
            assertion: Arc::new(KeyRing::fixed(KeyRole::Assertion, key)),
            applications: RwLock::new(BTreeMap::new()),
            dir: None,
            clock: Clock::default(),
        }
    }

    /// The keys of `role`; an application's own keys are loaded, or made, on first use.
    pub fn ring(&self, role: &KeyRole) -> Result<Arc<KeyRing>, KeyError> {
        match role {
            KeyRole::Request => Ok(self.request.clone()),
            KeyRole::Assertion => Ok(self.assertion.clone()),
            KeyRole::Application(id) => self.application_ring(id),
        }
    }

    fn application_ring(&self, id: &str) -> Result<Arc<KeyRing>, KeyError> {
        let loaded = match self.applications.read() {
            Ok(map) => map.get(id).cloned(),
            Err(poisoned) => poisoned.into_inner().get(id).cloned(),
        };
        if let Some(ring) = loaded {
            return Ok(ring);
        }
        let dir = self.dir.as_deref().ok_or(KeyError::InMemory)?;
        let role = KeyRole::Application(id.to_string());
        let files = KeyFiles::new(dir, &role.stem());
        let ring = Arc::new(KeyRing::load(role, files, &format!("{COMMON_NAME} ({id})"), self.clock.clone())?);
        let mut map = match self.applications.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        Ok(map.entry(id.to_string()).or_insert(ring).clone())
    }

    /// The keys that sign for application `id`: its own when it has them (`own_key`), else the
    /// assertion keys. An own key that cannot be loaded falls back to nothing: the error is the
    /// caller's to report.
    pub fn for_application(&self, id: &str, own_key: bool) -> Result<Arc<KeyRing>, KeyError> {
        match own_key {
            true => self.application_ring(id),
            false => Ok(self.assertion.clone()),
        }
    }

    /// Every role loaded so far.
    pub fn rings(&self) -> Vec<Arc<KeyRing>> {
        let mut list = vec![self.request.clone(), self.assertion.clone()];
        match self.applications.read() {
            Ok(map) => list.extend(map.values().cloned()),
            Err(poisoned) => list.extend(poisoned.into_inner().values().cloned()),
        }
        list
    }

    /// Re-reads every role's files; the roles that changed (another instance rotated them).
    pub fn reload(&self) -> Vec<Result<Option<KeyRole>, KeyError>> {
        self.rings().iter().map(|ring| ring.reload().map(|changed| changed.then(|| ring.role().clone()))).collect()
    }
}
