//! The hub's signing key: created on first start (RSA-2048, self-signed certificate), kept in
//! files only its owner may read, and loaded on later starts. Rotation has an overlap: a staged
//! next key (`signing-next.*`) is published in metadata beside the current one, so service
//! providers can import it before it signs; activating it makes it the current key and keeps the
//! old one as `signing-previous.*`.

use std::path::{Path, PathBuf};

use crossfed_clock::Clock;
use crossfed_xmldsig::{Certificate, DsigError, SigningKey};
use thiserror::Error;
use time::OffsetDateTime;

/// Why a key file could not be read, written or rotated; each names the file.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("moving {from} to {to}: {source}")]
    Move { from: PathBuf, to: PathBuf, source: std::io::Error },
    #[error("loading the signing key from {dir}: {source}")]
    Load { dir: PathBuf, source: DsigError },
    #[error("reading the {which} certificate {path}: {source}")]
    Certificate { which: &'static str, path: PathBuf, source: DsigError },
    #[error("creating a signing key: {0}")]
    Generate(DsigError),
    #[error("a next key is already staged ({0}); activate it with `crossfed keys rotate --activate`")]
    AlreadyStaged(PathBuf),
    #[error("no next key is staged; stage one with `crossfed keys rotate` first")]
    NothingStaged,
    #[error("the next key in {dir} does not load: {source}")]
    NextUnloadable { dir: PathBuf, source: DsigError },
    #[error("{0} holds no current key; start the hub once first")]
    NoCurrentKey(PathBuf),
    #[error("{0} holds no current key just now")]
    BetweenRenames(PathBuf),
    #[error("this hub's key is held in memory only; it cannot rotate")]
    InMemory,
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read { path: path.to_path_buf(), source })
}

fn written(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Write { path: path.to_path_buf(), source }
}

/// Loads `DIR/signing.key` and `DIR/signing.crt`, creating them on first start (`now`). Instances
/// sharing the folder take turns (a lock file), so only one creates the pair; a pair that a
/// crash or a full disk left incomplete (a file missing or empty) counts as absent and is made
/// again, each file written whole or not at all.
pub fn load_or_create(dir: &Path, common_name: &str, now: OffsetDateTime) -> Result<SigningKey, KeyError> {
    let (key_path, cert_path) = paths(dir, "signing");
    let _turn = crossfed_files::lock(dir, ".signing.lock").map_err(written(dir))?;
    if complete(&key_path) && complete(&cert_path) {
        if crossfed_files::readable_by_others(&key_path) {
            tracing::warn!("{} is readable by other users; restrict it with chmod 600", key_path.display());
        }
        let (key, cert) = (read(&key_path)?, read(&cert_path)?);
        return SigningKey::from_pem(&key, &cert).map_err(|source| KeyError::Load { dir: dir.to_path_buf(), source });
    }
    if key_path.exists() || cert_path.exists() {
        tracing::warn!("{} holds an incomplete key pair (a file missing or empty); making a new one", dir.display());
    }
    let key = SigningKey::generate_rsa(common_name, now, 3650).map_err(KeyError::Generate)?;
    write_pair(&key_path, &cert_path, &key)?;
    Ok(key)
}

/// Whether `path` is there with some content.
fn complete(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// Writes a key pair, each file whole or not at all: the key first, the certificate last, so a
/// certificate is never there without its key.
fn write_pair(key_path: &Path, cert_path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    crossfed_files::replace_private(key_path, key.private_key_pem().as_bytes()).map_err(written(key_path))?;
    crossfed_files::replace_public(cert_path, key.certificate().to_pem().as_bytes()).map_err(written(cert_path))
}

fn paths(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{stem}.key")), dir.join(format!("{stem}.crt")))
}

/// The staged next certificate, if a rotation is under way.
pub fn next_certificate(dir: &Path) -> Result<Option<Certificate>, KeyError> {
    optional_certificate(dir, "signing-next", "next")
}

/// The certificate `DIR/STEM.crt`, if there is one.
fn optional_certificate(dir: &Path, stem: &str, which: &'static str) -> Result<Option<Certificate>, KeyError> {
    let (_, cert_path) = paths(dir, stem);
    match std::fs::read(&cert_path) {
        Ok(pem) => Certificate::from_pem(&pem).map(Some).map_err(|source| KeyError::Certificate {
            which,
            path: cert_path.clone(),
            source,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Read { path: cert_path, source }),
    }
}

/// Creates the next key (at `now`); it is published from the next start on and signs once
/// activated.
pub fn stage_next(dir: &Path, common_name: &str, now: OffsetDateTime) -> Result<Certificate, KeyError> {
    let (key_path, cert_path) = paths(dir, "signing-next");
    if key_path.exists() {
        return Err(KeyError::AlreadyStaged(key_path));
    }
    if !dir.join("signing.key").exists() {
        return Err(KeyError::NoCurrentKey(dir.to_path_buf()));
    }
    let key = SigningKey::generate_rsa(common_name, now, 3650).map_err(KeyError::Generate)?;
    // The certificate last: a next certificate without its key is never published.
    write_pair(&key_path, &cert_path, &key)?;
    Ok(key.certificate().clone())
}

/// Makes the staged next key the current one; the current one becomes `signing-previous.*`.
pub fn activate_next(dir: &Path) -> Result<Certificate, KeyError> {
    let (next_key, next_cert) = paths(dir, "signing-next");
    let (key, cert) = paths(dir, "signing");
    let (previous_key, previous_cert) = paths(dir, "signing-previous");
    let certificate = next_certificate(dir)?.ok_or(KeyError::NothingStaged)?;
    // Both halves of the next key must load before anything moves.
    SigningKey::from_pem(&read(&next_key)?, &read(&next_cert)?)
        .map_err(|source| KeyError::NextUnloadable { dir: dir.to_path_buf(), source })?;
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|source| KeyError::Move {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
            source,
        })
    };
    rename(&key, &previous_key)?;
    rename(&cert, &previous_cert)?;
    rename(&next_key, &key)?;
    rename(&next_cert, &cert)?;
    Ok(certificate)
}

/// The previous certificate, kept after an activation (shown, no longer published).
pub fn previous_certificate(dir: &Path) -> Result<Option<Certificate>, KeyError> {
    optional_certificate(dir, "signing-previous", "previous")
}

/// The keys as they stand at one moment.
#[derive(Debug)]
pub struct KeySet {
    /// Signs every message.
    pub current: std::sync::Arc<SigningKey>,
    /// Staged: published beside the current one, signs nothing yet.
    pub next: Option<Certificate>,
    /// Replaced by the last activation.
    pub previous: Option<Certificate>,
}

impl KeySet {
    /// The certificates metadata lists: the current one, then a staged next one.
    pub fn published(&self) -> Vec<Certificate> {
        let mut list = vec![self.current.certificate().clone()];
        list.extend(self.next.iter().cloned());
        list
    }
}

/// The hub's keys, swapped whole when a rotation step happens, here or (through the shared key
/// files) at another instance: the janitor re-reads the files every minute.
#[derive(Debug)]
pub struct KeyRing {
    /// Where the key files live; `None` for a key held in memory only (tests).
    dir: Option<std::path::PathBuf>,
    common_name: String,
    /// When new keys are made.
    clock: Clock,
    state: std::sync::RwLock<std::sync::Arc<KeySet>>,
}

impl KeyRing {
    /// Loads the keys from `dir`, creating the current one on first start; new keys are made at
    /// `clock`'s time.
    pub fn load(dir: &Path, common_name: &str, clock: Clock) -> Result<KeyRing, KeyError> {
        let state = read_set(dir, common_name, Some(clock.now()))?;
        Ok(KeyRing {
            dir: Some(dir.to_path_buf()),
            common_name: common_name.to_string(),
            clock,
            state: std::sync::RwLock::new(std::sync::Arc::new(state)),
        })
    }

    /// One key in memory, never rotated.
    pub fn fixed(key: SigningKey) -> KeyRing {
        KeyRing {
            dir: None,
            common_name: String::new(),
            clock: Clock::default(),
            state: std::sync::RwLock::new(std::sync::Arc::new(KeySet {
                current: std::sync::Arc::new(key),
                next: None,
                previous: None,
            })),
        }
    }

    pub fn current(&self) -> std::sync::Arc<KeySet> {
        match self.state.read() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The key that signs now.
    pub fn signing_key(&self) -> std::sync::Arc<SigningKey> {
        self.current().current.clone()
    }

    fn replace(&self, set: KeySet) {
        let set = std::sync::Arc::new(set);
        match self.state.write() {
            Ok(mut state) => *state = set,
            Err(poisoned) => *poisoned.into_inner() = set,
        }
    }

    fn dir(&self) -> Result<&Path, KeyError> {
        self.dir.as_deref().ok_or(KeyError::InMemory)
    }

    /// Re-reads the key files; true when they changed (another instance rotated).
    pub fn reload(&self) -> Result<bool, KeyError> {
        let Some(dir) = self.dir.as_deref() else { return Ok(false) };
        // The certificates tell whether anything changed; the private key is read only then.
        let old = self.current();
        let unchanged = optional_certificate(dir, "signing", "current")?
            .is_some_and(|c| c.fingerprint_hex() == old.current.certificate().fingerprint_hex())
            && next_certificate(dir)?.map(|c| c.fingerprint_hex())
                == old.next.as_ref().map(Certificate::fingerprint_hex);
        if unchanged {
            return Ok(false);
        }
        self.replace(read_set(dir, &self.common_name, None)?);
        Ok(true)
    }

    /// Stages a next key: published from now on, signing once activated.
    pub fn stage_next(&self) -> Result<Certificate, KeyError> {
        let dir = self.dir()?;
        let certificate = stage_next(dir, &self.common_name, self.clock.now())?;
        self.replace(read_set(dir, &self.common_name, None)?);
        Ok(certificate)
    }

    /// Makes the staged key the signing key.
    pub fn activate_next(&self) -> Result<Certificate, KeyError> {
        let dir = self.dir()?;
        let certificate = activate_next(dir)?;
        self.replace(read_set(dir, &self.common_name, None)?);
        Ok(certificate)
    }
}

/// The key set in `dir`. Only the first start creates a key (at `create_at`): a re-read that
/// finds no current key (another instance is between the renames of an activation) fails and is
/// tried again later.
fn read_set(dir: &Path, common_name: &str, create_at: Option<OffsetDateTime>) -> Result<KeySet, KeyError> {
    let Some(now) = create_at.or_else(|| dir.join("signing.key").exists().then_some(OffsetDateTime::UNIX_EPOCH)) else {
        return Err(KeyError::BetweenRenames(dir.to_path_buf()));
    };
    Ok(KeySet {
        current: std::sync::Arc::new(load_or_create(dir, common_name, now)?),
        next: next_certificate(dir)?,
        previous: previous_certificate(dir)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
            std::fs::write(dir.join("signing.key"), leftover).map_err(written(&dir))?;
            let made = load_or_create(&dir, "hub", now)?;
            let again = load_or_create(&dir, "hub", now)?;
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
        load_or_create(&dir, "hub", now)?;
        std::fs::write(dir.join("signing.key"), b"not a key").map_err(written(&dir))?;
        assert!(matches!(load_or_create(&dir, "hub", now), Err(KeyError::Load { .. })));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn an_instance_sharing_the_key_files_follows_a_rotation_made_by_another() -> Result<(), KeyError> {
        let dir = std::env::temp_dir().join(format!("crossfed-keys-{}", crossfed_random::hex::<8>()));
        std::fs::create_dir_all(&dir).map_err(written(&dir))?;
        let here = KeyRing::load(&dir, "hub", Clock::system())?;
        let there = KeyRing::load(&dir, "hub", Clock::system())?;
        let first = here.signing_key().certificate().fingerprint_hex();
        assert!(!here.reload()?, "nothing changed yet");
        let next = there.stage_next()?;
        assert!(here.reload()?);
        assert_eq!(here.current().published().len(), 2);
        assert_eq!(here.signing_key().certificate().fingerprint_hex(), first, "staged keys do not sign");
        there.activate_next()?;
        assert!(here.reload()?);
        assert_eq!(here.signing_key().certificate().fingerprint_hex(), next.fingerprint_hex());
        assert_eq!(here.current().previous.as_ref().map(Certificate::fingerprint_hex), Some(first));
        assert!(!here.reload()?);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
