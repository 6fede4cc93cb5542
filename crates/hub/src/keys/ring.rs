//! One role's keys in memory ([`KeyRing`]): the pair that signs, a staged next pair and the
//! previous pair, swapped whole when a rotation step happens, here or (through the shared key
//! files) at another instance: the janitor re-reads the files every 30 seconds.

use std::sync::{Arc, RwLock};

use crossfed_clock::Clock;
use crossfed_xmldsig::{Certificate, SigningKey};

use super::files::{KeyError, KeyFiles, Slot};
use super::role::KeyRole;

/// A role's keys as they stand at one moment.
#[derive(Debug)]
pub struct KeySet {
    /// Signs every message of the role.
    pub current: Arc<SigningKey>,
    /// Staged: published beside the current one, signs nothing yet.
    pub next: Option<Arc<SigningKey>>,
    /// Replaced by the last activation; still published until it is retired.
    pub previous: Option<Certificate>,
    /// When the current key was activated (Unix seconds); `None` for a key never rotated.
    pub activated_at: Option<i64>,
}

impl KeySet {
    /// The certificates metadata lists: the current one, a staged next one, then the previous
    /// one until it is retired (messages an instance signed before following an activation
    /// still verify at peers that refresh metadata meanwhile).
    pub fn published(&self) -> Vec<Certificate> {
        let mut list = vec![self.current.certificate().clone()];
        list.extend(self.next.iter().map(|k| k.certificate().clone()));
        list.extend(self.previous.iter().cloned());
        list
    }

    /// Where the rollover stands.
    pub fn stage(&self) -> RolloverStage {
        match (&self.next, &self.previous) {
            (Some(_), _) => RolloverStage::Staged,
            (None, Some(_)) => RolloverStage::Activated,
            (None, None) => RolloverStage::Steady,
        }
    }

    fn fingerprints(&self) -> [Option<String>; 3] {
        [
            Some(self.current.certificate().fingerprint_hex()),
            self.next.as_ref().map(|k| k.certificate().fingerprint_hex()),
            self.previous.as_ref().map(Certificate::fingerprint_hex),
        ]
    }
}

/// The steps of a rollover: steady → staged (next published) → activated (previous still
/// published) → steady again once the previous key is retired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloverStage {
    Steady,
    Staged,
    Activated,
}

impl RolloverStage {
    pub fn describe(self) -> &'static str {
        match self {
            RolloverStage::Steady => "one key, signing",
            RolloverStage::Staged => "next key staged: published, not signing yet",
            RolloverStage::Activated => "next key signing; the previous one is still published until it is retired",
        }
    }
}

/// One role's keys.
#[derive(Debug)]
pub struct KeyRing {
    role: KeyRole,
    /// Where the key files live; `None` for a key held in memory only (tests).
    files: Option<KeyFiles>,
    common_name: String,
    /// When new keys are made, and activations stamped.
    clock: Clock,
    state: RwLock<Arc<KeySet>>,
}

impl KeyRing {
    /// Loads `role`'s keys from `files`, creating the current pair on first start; new keys are
    /// made at `clock`'s time.
    pub fn load(role: KeyRole, files: KeyFiles, common_name: &str, clock: Clock) -> Result<KeyRing, KeyError> {
        files.load_or_create(common_name, clock.now())?;
        let state = read_set(&files)?;
        Ok(KeyRing {
            role,
            files: Some(files),
            common_name: common_name.to_string(),
            clock,
            state: RwLock::new(Arc::new(state)),
        })
    }

    /// One key in memory, never rotated.
    pub fn fixed(role: KeyRole, key: Arc<SigningKey>) -> KeyRing {
        KeyRing {
            role,
            files: None,
            common_name: String::new(),
            clock: Clock::default(),
            state: RwLock::new(Arc::new(KeySet { current: key, next: None, previous: None, activated_at: None })),
        }
    }

    pub fn role(&self) -> &KeyRole {
        &self.role
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.state.read() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key that signs now.
    pub fn signing_key(&self) -> Arc<SigningKey> {
        self.current().current.clone()
    }

    fn replace(&self, set: KeySet) {
        let set = Arc::new(set);
        match self.state.write() {
            Ok(mut state) => *state = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    fn files(&self) -> Result<&KeyFiles, KeyError> {
        self.files.as_ref().ok_or(KeyError::InMemory)
    }

    /// Re-reads the key files; true when they changed (another instance rotated).
    pub fn reload(&self) -> Result<bool, KeyError> {
        let Some(files) = &self.files else { return Ok(false) };
        // The certificates tell whether anything changed; the private keys are read only then.
        let on_disk = [Slot::Current, Slot::Next, Slot::Previous]
            .map(|slot| files.certificate(slot).map(|c| c.map(|c| c.fingerprint_hex())));
        let [current, next, previous] = on_disk;
        if [current?, next?, previous?] == self.current().fingerprints() {
            return Ok(false);
        }
        self.replace(read_set(files)?);
        Ok(true)
    }

    /// Stages a next key: published from now on, signing once activated.
    pub fn stage_next(&self) -> Result<Certificate, KeyError> {
        let files = self.files()?;
        let certificate = files.stage_next(&self.role.name(), &self.common_name, self.clock.now())?;
        self.replace(read_set(files)?);
        Ok(certificate)
    }

    /// Makes the staged key the signing key.
    pub fn activate_next(&self) -> Result<Certificate, KeyError> {
        self.activate(None)
    }

    /// Makes the staged key the signing key, provided it is the one `expected` names (its
    /// SHA-256 fingerprint): the one whose peers were asked.
    pub fn activate(&self, expected: Option<&str>) -> Result<Certificate, KeyError> {
        let files = self.files()?;
        let certificate = files.activate_next(&self.role.name(), self.clock.unix(), expected)?;
        self.replace(read_set(files)?);
        Ok(certificate)
    }

    /// Stops publishing the previous key and deletes it.
    pub fn retire_previous(&self) -> Result<Certificate, KeyError> {
        self.retire(None)
    }

    /// Retires the previous key, provided it is the one `expected` names.
    pub fn retire(&self, expected: Option<&str>) -> Result<Certificate, KeyError> {
        let files = self.files()?;
        let certificate = files.retire_previous(&self.role.name(), expected)?;
        self.replace(read_set(files)?);
        Ok(certificate)
    }
}

/// The key set in `files`. A re-read that finds no current key (another instance is between
/// the renames of an activation) fails and is tried again later.
fn read_set(files: &KeyFiles) -> Result<KeySet, KeyError> {
    let current = files.load(Slot::Current)?.ok_or_else(|| KeyError::BetweenRenames(files.dir.clone()))?;
    let activated_at = files.activated_at();
    // A previous pair without an activation stamp was left by a version that never published
    // it: it stays unpublished, and the next activation replaces it.
    let previous = match activated_at {
        Some(_) => files.certificate(Slot::Previous)?,
        None => None,
    };
    Ok(KeySet { current: Arc::new(current), next: files.load(Slot::Next)?.map(Arc::new), previous, activated_at })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::keys::files::written;

    fn scratch() -> Result<PathBuf, KeyError> {
        let dir = std::env::temp_dir().join(format!("crossfed-keys-{}", crossfed_random::hex::<8>()));
        std::fs::create_dir_all(&dir).map_err(written(&dir))?;
        Ok(dir)
    }

    /// What a first start on a full disk used to leave: a 0-byte key and no certificate, or a key
    /// whose certificate never got written. Either counts as no key; a whole pair is kept.
    #[test]
    fn an_incomplete_key_pair_counts_as_absent_and_a_whole_one_is_kept() -> Result<(), KeyError> {
        let now = Clock::system().now();
        for leftover in [&b""[..], b"-----BEGIN PRIVATE KEY-----"] {
            let dir = scratch()?;
            let files = KeyFiles::new(&dir, "signing");
            std::fs::write(dir.join("signing.key"), leftover).map_err(written(&dir))?;
            let made = files.load_or_create("hub", now)?;
            let again = files.load_or_create("hub", now)?;
            assert_eq!(made.certificate().fingerprint_hex(), again.certificate().fingerprint_hex());
            let names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(written(&dir))?
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
                .filter(|n| !n.starts_with(".signing.lock"))
                .collect();
            assert_eq!(names.len(), 2, "only the pair remains: {names:?}");
            let _ = std::fs::remove_dir_all(&dir);
        }
        // A whole pair that does not load is an error to look at, never replaced silently.
        let dir = scratch()?;
        let files = KeyFiles::new(&dir, "signing");
        files.load_or_create("hub", now)?;
        std::fs::write(dir.join("signing.key"), b"not a key").map_err(written(&dir))?;
        assert!(matches!(files.load_or_create("hub", now), Err(KeyError::Load { .. })));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn an_instance_sharing_the_key_files_follows_each_step_made_by_another() -> Result<(), KeyError> {
        let dir = scratch()?;
        let load = || KeyRing::load(KeyRole::Assertion, KeyFiles::new(&dir, "signing"), "hub", Clock::system());
        let (here, there) = (load()?, load()?);
        let first = here.signing_key().certificate().fingerprint_hex();
        assert!(!here.reload()?, "nothing changed yet");
        assert_eq!(here.current().stage(), RolloverStage::Steady);
        let next = there.stage_next()?;
        assert!(here.reload()?);
        assert_eq!(here.current().stage(), RolloverStage::Staged);
        assert_eq!(here.current().published().len(), 2);
        assert_eq!(here.signing_key().certificate().fingerprint_hex(), first, "staged keys do not sign");
        assert!(matches!(there.stage_next(), Err(KeyError::AlreadyStaged { .. })));
        there.activate_next()?;
        assert!(here.reload()?);
        assert_eq!(here.current().stage(), RolloverStage::Activated);
        assert_eq!(here.signing_key().certificate().fingerprint_hex(), next.fingerprint_hex());
        assert_eq!(here.current().previous.as_ref().map(Certificate::fingerprint_hex), Some(first.clone()));
        assert_eq!(here.current().published().last().map(Certificate::fingerprint_hex), Some(first));
        assert!(here.current().activated_at.is_some());
        assert!(matches!(there.stage_next(), Err(KeyError::PreviousKept { .. })), "retire before the next rollover");
        there.retire_previous()?;
        assert!(here.reload()?);
        assert_eq!(here.current().stage(), RolloverStage::Steady);
        assert_eq!(here.current().published().len(), 1);
        assert!(matches!(there.retire_previous(), Err(KeyError::NothingToRetire { .. })));
        assert!(!here.reload()?);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    /// A crash after any of an activation's renames: the next start finishes the activation
    /// (the key the peers were told about signs), and never makes a new key.
    #[test]
    fn an_activation_a_crash_interrupted_is_finished_at_the_next_start() -> Result<(), KeyError> {
        let renames = [
            ("signing.key", "signing-previous.key"),
            ("signing.crt", "signing-previous.crt"),
            ("signing-next.key", "signing.key"),
            ("signing-next.crt", "signing.crt"),
        ];
        for done in 1..renames.len() {
            let dir = scratch()?;
            let files = KeyFiles::new(&dir, "signing");
            files.load_or_create("hub", Clock::system().now())?;
            let next = files.stage_next("assertion", "hub", Clock::system().now())?.fingerprint_hex();
            for (from, to) in renames.iter().take(done) {
                std::fs::rename(dir.join(from), dir.join(to)).map_err(written(&dir))?;
            }
            let ring = KeyRing::load(KeyRole::Assertion, KeyFiles::new(&dir, "signing"), "hub", Clock::system())?;
            let keys = ring.current();
            assert_eq!(keys.current.certificate().fingerprint_hex(), next, "after {done} renames");
            assert!(keys.next.is_none(), "after {done} renames");
            let _ = std::fs::remove_dir_all(&dir);
        }
        Ok(())
    }

    /// A previous key left by a version that never published it stays unpublished, and does not
    /// hold up the next rollover.
    #[test]
    fn a_previous_key_an_older_version_left_is_not_published() -> Result<(), KeyError> {
        let dir = scratch()?;
        let files = KeyFiles::new(&dir, "signing");
        files.load_or_create("hub", Clock::system().now())?;
        let leftover = KeyFiles::new(&dir, "signing-previous");
        leftover.load_or_create("hub", Clock::system().now())?;
        let ring = KeyRing::load(KeyRole::Assertion, KeyFiles::new(&dir, "signing"), "hub", Clock::system())?;
        assert_eq!(ring.current().published().len(), 1);
        assert_eq!(ring.current().stage(), RolloverStage::Steady);
        ring.stage_next()?;
        ring.activate_next()?;
        assert_eq!(ring.current().published().len(), 2, "the replaced key, now stamped, is published");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
