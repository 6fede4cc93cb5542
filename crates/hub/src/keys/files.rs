//! The key files of one role in the data folder: `STEM.key`/`STEM.crt` sign now, a staged
//! `STEM-next.*` pair is published before it signs, and `STEM-previous.*` is the pair the last
//! activation replaced (still published until it is retired). Private keys are readable by their
//! owner only; each file is written whole or not at all, the key before its certificate, so a
//! certificate is never there without its key.

use std::path::{Path, PathBuf};

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
    #[error("loading the key pair {path}: {source}")]
    Load { path: PathBuf, source: DsigError },
    #[error("reading the {which} certificate {path}: {source}")]
    Certificate { which: &'static str, path: PathBuf, source: DsigError },
    #[error("creating a signing key: {0}")]
    Generate(DsigError),
    #[error("the {role} key: a next key is already staged ({path}); activate it first")]
    AlreadyStaged { role: String, path: PathBuf },
    #[error("the {role} key: a previous key ({path}) is still kept; retire it before staging another")]
    PreviousKept { role: String, path: PathBuf },
    #[error("the {role} key: no next key is staged; stage one first")]
    NothingStaged { role: String },
    #[error("the {role} key: no previous key is kept, so there is nothing to retire")]
    NothingToRetire { role: String },
    #[error("the next key {path} does not load: {source}")]
    NextUnloadable { path: PathBuf, source: DsigError },
    #[error("{0} holds no current key; start the hub once first")]
    NoCurrentKey(PathBuf),
    #[error("{0} holds no current key just now")]
    BetweenRenames(PathBuf),
    #[error("this hub's keys are held in memory only; they cannot rotate")]
    InMemory,
    #[error("unknown key role {0:?}: give request, assertion or assertion:APPLICATION")]
    UnknownRole(String),
    #[error(
        "the {role} key moved meanwhile (another instance?): expected {expected}, found {found}; look again and repeat the step"
    )]
    Moved { role: String, expected: String, found: String },
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Read { path: path.to_path_buf(), source })
}

pub(crate) fn written(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Write { path: path.to_path_buf(), source }
}

/// One role's files: the folder and the file stem (`signing`, `request`, `app.ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    pub dir: PathBuf,
    pub stem: String,
}

/// Which pair of a role's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Current,
    Next,
    Previous,
}

impl Slot {
    /// The file name part after the stem. An application's stem (`app.ID`) takes `.next`: IDs
    /// may hold `-`, never `.`, so no application's files are another's slot.
    fn suffix(self, stem: &str) -> &'static str {
        let dotted = stem.starts_with("app.");
        match (self, dotted) {
            (Slot::Current, _) => "",
            (Slot::Next, false) => "-next",
            (Slot::Previous, false) => "-previous",
            (Slot::Next, true) => ".next",
            (Slot::Previous, true) => ".previous",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Slot::Current => "current",
            Slot::Next => "next",
            Slot::Previous => "previous",
        }
    }
}

impl KeyFiles {
    pub fn new(dir: &Path, stem: &str) -> KeyFiles {
        KeyFiles { dir: dir.to_path_buf(), stem: stem.to_string() }
    }

    /// The key and certificate paths of `slot`.
    pub fn paths(&self, slot: Slot) -> (PathBuf, PathBuf) {
        let base = format!("{}{}", self.stem, slot.suffix(&self.stem));
        (self.dir.join(format!("{base}.key")), self.dir.join(format!("{base}.crt")))
    }

    /// Every file name a role may have (for backups).
    pub fn names(stem: &str) -> Vec<String> {
        let mut names = Vec::new();
        for slot in [Slot::Current, Slot::Next, Slot::Previous] {
            for ext in ["key", "crt"] {
                names.push(format!("{stem}{}.{ext}", slot.suffix(stem)));
            }
        }
        names.push(format!("{stem}.activated"));
        names
    }

    fn lock_name(&self) -> String {
        format!(".{}.lock", self.stem)
    }

    fn activated_path(&self) -> PathBuf {
        self.dir.join(format!("{}.activated", self.stem))
    }

    /// Whether the current pair is there whole.
    pub fn has_current(&self) -> bool {
        let (key, cert) = self.paths(Slot::Current);
        complete(&key) && complete(&cert)
    }

    /// Loads the current pair, creating it (at `now`) when absent. Instances sharing the folder
    /// take turns (a lock file), so only one creates the pair; a pair that a crash or a full disk
    /// left incomplete (a file missing or empty) counts as absent and is made again.
    pub fn load_or_create(&self, common_name: &str, now: OffsetDateTime) -> Result<SigningKey, KeyError> {
        self.load_or_else(|| SigningKey::generate_rsa(common_name, now, 3650).map_err(KeyError::Generate))
    }

    /// Loads the current pair, or makes it with `make` when absent (under the folder's lock).
    pub fn load_or_else(&self, make: impl FnOnce() -> Result<SigningKey, KeyError>) -> Result<SigningKey, KeyError> {
        let (key_path, cert_path) = self.paths(Slot::Current);
        let _turn = crossfed_files::lock(&self.dir, &self.lock_name()).map_err(written(&self.dir))?;
        self.finish_interrupted_activation()?;
        if complete(&key_path) && complete(&cert_path) {
            if crossfed_files::readable_by_others(&key_path) {
                tracing::warn!("{} is readable by other users; restrict it with chmod 600", key_path.display());
            }
            return self.load(Slot::Current)?.ok_or(KeyError::NoCurrentKey(self.dir.clone()));
        }
        let (_, previous_cert) = self.paths(Slot::Previous);
        if complete(&previous_cert) {
            // A previous key without a current one is not a first start: making a key here would
            // sign with one no peer trusts.
            return Err(KeyError::NoCurrentKey(self.dir.clone()));
        }
        if key_path.exists() || cert_path.exists() {
            tracing::warn!(
                "{} holds an incomplete key pair (a file missing or empty); making a new one",
                key_path.display()
            );
        }
        let key = make()?;
        write_pair(&key_path, &cert_path, &key)?;
        Ok(key)
    }

    /// The pair in `slot`, when its certificate is there.
    pub fn load(&self, slot: Slot) -> Result<Option<SigningKey>, KeyError> {
        let (key_path, cert_path) = self.paths(slot);
        if !complete(&cert_path) {
            return Ok(None);
        }
        let (key, cert) = (read(&key_path)?, read(&cert_path)?);
        SigningKey::from_pem(&key, &cert).map(Some).map_err(|source| KeyError::Load { path: key_path, source })
    }

    /// The certificate in `slot`, if there is one.
    pub fn certificate(&self, slot: Slot) -> Result<Option<Certificate>, KeyError> {
        let (_, cert_path) = self.paths(slot);
        match std::fs::read(&cert_path) {
            Ok(pem) if pem.is_empty() => Ok(None),
            Ok(pem) => Certificate::from_pem(&pem).map(Some).map_err(|source| KeyError::Certificate {
                which: slot.name(),
                path: cert_path.clone(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::Read { path: cert_path, source }),
        }
    }

    /// When the current pair was activated (Unix seconds); `None` for a key never rotated.
    pub fn activated_at(&self) -> Option<i64> {
        std::fs::read_to_string(self.activated_path()).ok().and_then(|t| t.trim().parse().ok())
    }

    /// Creates the next key (at `now`) for role `role`; it is published at once and signs once
    /// activated. Refused while a next key is staged or a previous one is still kept.
    pub fn stage_next(&self, role: &str, common_name: &str, now: OffsetDateTime) -> Result<Certificate, KeyError> {
        let (key_path, cert_path) = self.paths(Slot::Next);
        let _turn = crossfed_files::lock(&self.dir, &self.lock_name()).map_err(written(&self.dir))?;
        if complete(&cert_path) {
            return Err(KeyError::AlreadyStaged { role: role.to_string(), path: key_path });
        }
        let (_, previous) = self.paths(Slot::Previous);
        if complete(&previous) && self.activated_at().is_some() {
            return Err(KeyError::PreviousKept { role: role.to_string(), path: previous });
        }
        if !self.has_current() {
            return Err(KeyError::NoCurrentKey(self.dir.clone()));
        }
        let key = SigningKey::generate_rsa(common_name, now, 3650).map_err(KeyError::Generate)?;
        write_pair(&key_path, &cert_path, &key)?;
        Ok(key.certificate().clone())
    }

    /// Makes the staged next pair the current one; the current one becomes the previous one.
    /// `now` is recorded as the activation time. With `expected` (a SHA-256 fingerprint), only
    /// that next key is activated: the one whose peers were asked.
    pub fn activate_next(&self, role: &str, now: i64, expected: Option<&str>) -> Result<Certificate, KeyError> {
        let (next_key, next_cert) = self.paths(Slot::Next);
        let _turn = crossfed_files::lock(&self.dir, &self.lock_name()).map_err(written(&self.dir))?;
        if !complete(&next_cert) {
            return Err(KeyError::NothingStaged { role: role.to_string() });
        }
        // Both halves of the next key must load before anything moves.
        let next = SigningKey::from_pem(&read(&next_key)?, &read(&next_cert)?)
            .map_err(|source| KeyError::NextUnloadable { path: next_key.clone(), source })?;
        let found = next.certificate().fingerprint_hex();
        if let Some(expected) = expected.filter(|e| *e != found) {
            return Err(KeyError::Moved { role: role.to_string(), expected: expected.to_string(), found });
        }
        // The stamp first: a crash after it makes a retirement wait longer, never shorter.
        let stamp = self.activated_path();
        crossfed_files::replace_public(&stamp, now.to_string().as_bytes()).map_err(written(&stamp))?;
        self.move_slots()?;
        Ok(next.certificate().clone())
    }

    /// The renames of an activation, in order: each replaces its target whole.
    fn move_slots(&self) -> Result<(), KeyError> {
        let [(key, cert), (next_key, next_cert), (previous_key, previous_cert)] =
            [Slot::Current, Slot::Next, Slot::Previous].map(|slot| self.paths(slot));
        for (from, to) in [(&key, &previous_key), (&cert, &previous_cert), (&next_key, &key), (&next_cert, &cert)] {
            rename(from, to)?;
        }
        Ok(())
    }

    /// After a crash in the middle of an activation (the current pair incomplete, the next one
    /// still there in part), does the renames it had left, so the key every peer was told about
    /// signs. Which are left follows from what is there: the current key moved away but not its
    /// certificate, both moved, or the next key moved in but not its certificate.
    fn finish_interrupted_activation(&self) -> Result<(), KeyError> {
        let [(key, cert), (next_key, next_cert), (_, previous_cert)] =
            [Slot::Current, Slot::Next, Slot::Previous].map(|slot| self.paths(slot));
        if (complete(&key) && complete(&cert)) || !(complete(&next_key) || complete(&next_cert)) {
            return Ok(());
        }
        tracing::warn!("{}: finishing an activation a crash interrupted", self.dir.display());
        let left: Vec<(&Path, &Path)> = match (complete(&key), complete(&cert)) {
            (false, true) => vec![(&cert, &previous_cert), (&next_key, &key), (&next_cert, &cert)],
            (false, false) => vec![(&next_key, &key), (&next_cert, &cert)],
            _ => vec![(&next_cert, &cert)],
        };
        for (from, to) in left {
            rename(from, to)?;
        }
        Ok(())
    }

    /// Removes the previous pair: it is no longer published. The certificate goes first, so a
    /// certificate is never there without its key.
    /// With `expected` (a SHA-256 fingerprint), only that previous key is retired.
    pub fn retire_previous(&self, role: &str, expected: Option<&str>) -> Result<Certificate, KeyError> {
        let (key, cert) = self.paths(Slot::Previous);
        let _turn = crossfed_files::lock(&self.dir, &self.lock_name()).map_err(written(&self.dir))?;
        if !self.has_current() {
            return Err(KeyError::NoCurrentKey(self.dir.clone()));
        }
        let certificate =
            self.certificate(Slot::Previous)?.ok_or(KeyError::NothingToRetire { role: role.to_string() })?;
        let found = certificate.fingerprint_hex();
        if let Some(expected) = expected.filter(|e| *e != found) {
            return Err(KeyError::Moved { role: role.to_string(), expected: expected.to_string(), found });
        }
        for path in [&cert, &key] {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(KeyError::Write { path: path.clone(), source }),
            }
        }
        Ok(certificate)
    }

    /// Makes this role's current pair a copy of `from`'s (an upgrade: the role used to share
    /// that key, so its peers already trust it). Nothing happens when this role has a key.
    pub fn adopt_copy_of(&self, from: &KeyFiles) -> Result<bool, KeyError> {
        let _turn = crossfed_files::lock(&self.dir, &self.lock_name()).map_err(written(&self.dir))?;
        if self.has_current() || !from.has_current() {
            return Ok(false);
        }
        let key = from.load(Slot::Current)?.ok_or(KeyError::NoCurrentKey(from.dir.clone()))?;
        let (key_path, cert_path) = self.paths(Slot::Current);
        write_pair(&key_path, &cert_path, &key)?;
        Ok(true)
    }
}

/// The role stem a key file name belongs to (`signing-next.key` → `signing`), when it is one of
/// the hub's key files: `request`, `signing` or `app.ID`, each with its slots and activation stamp.
pub fn key_file_stem(name: &str) -> Option<&str> {
    let base =
        name.strip_suffix(".key").or_else(|| name.strip_suffix(".crt")).or_else(|| name.strip_suffix(".activated"))?;
    if base.starts_with("app.") {
        let stem = base.strip_suffix(".next").or_else(|| base.strip_suffix(".previous")).unwrap_or(base);
        let id = stem.strip_prefix("app.").unwrap_or_default();
        return crate::apps::spec::check_id(id).is_ok().then_some(stem);
    }
    let stem = base.strip_suffix("-next").or_else(|| base.strip_suffix("-previous")).unwrap_or(base);
    (stem == "request" || stem == "signing").then_some(stem)
}

fn rename(from: &Path, to: &Path) -> Result<(), KeyError> {
    std::fs::rename(from, to).map_err(|source| KeyError::Move {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}

/// Whether `path` is there with some content.
fn complete(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() > 0)
}

/// Writes a key pair, each file whole or not at all: the key first, the certificate last.
fn write_pair(key_path: &Path, cert_path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    crossfed_files::replace_private(key_path, key.private_key_pem().as_bytes()).map_err(written(key_path))?;
    crossfed_files::replace_public(cert_path, key.certificate().to_pem().as_bytes()).map_err(written(cert_path))
}
