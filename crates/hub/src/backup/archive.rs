//! The backup archive's format: which files of a data folder it holds, its manifest, and the
//! checksums that tell a damaged archive from a good one.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The archive's first entry.
pub const MANIFEST: &str = "crossfed-backup.json";
/// The format this binary writes and reads; a newer one is refused, not guessed at.
pub(crate) const FORMAT: u32 = 1;
/// The database's name in the archive and in the data folder.
pub(crate) const DATABASE: &str = "hub.db";
/// The files SQLite keeps beside the database; a restored database must not meet old ones.
pub(crate) const DATABASE_COMPANIONS: [&str; 3] = ["hub.db-wal", "hub.db-shm", "hub.db-journal"];
/// Whether `name` is one of the data folder's files a backup holds besides the database: each
/// role's key files ([`crate::keys::key_file_stem`]) and the admin token. Named by rule: a backup
/// holds what the hub wrote, never whatever else sits in the folder.
pub(crate) fn is_key_file(name: &str) -> bool {
    name == "admin-token" || crate::keys::key_file_stem(name).is_some()
}

/// The key files among `dir`'s entries, sorted.
pub(crate) fn key_files_in(dir: &Path) -> Result<Vec<String>, BackupError> {
    let entries = std::fs::read_dir(dir).map_err(BackupError::io("reading", dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.map_err(BackupError::io("reading", dir))?.file_name().to_string_lossy().to_string();
        if is_key_file(&name) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
/// A key or token file larger than this is not one (the archive is refused, not read whole).
pub(crate) const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Why a backup could not be taken or restored; each says what to do.
#[derive(Debug, Error)]
pub enum BackupError {
    #[error(
        "the store is PostgreSQL ({0}): back the database up with pg_dump (`pg_dump --format=custom --file=hub.pgdump URL`, see docs/operations.md) and the data folder's keys with `crossfed backup --keys-only`"
    )]
    Postgres(String),
    #[error(transparent)]
    Snapshot(#[from] crossfed_store::SnapshotError),
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error(
        "{path} holds no signing key (signing.key and signing.crt): give the data folder of a hub that has started once"
    )]
    NoKeys { path: PathBuf },
    #[error("{path}: the signing key pair does not load ({source}); was it being rotated? try again")]
    KeysMoving { path: PathBuf, source: crossfed_xmldsig::DsigError },
    #[error("{path} is not a crossfed backup: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error(
        "{path} is a backup of format {found}, newer than this crossfed's {FORMAT}: restore it with a newer crossfed"
    )]
    NewerFormat { path: PathBuf, found: u32 },
    #[error("{path} is damaged: {name} {reason}; take another backup")]
    Damaged { path: PathBuf, name: String, reason: String },
    #[error("{path}: the {pair} key pair in the archive does not load: {source}")]
    BadKeys { path: PathBuf, pair: String, source: crossfed_xmldsig::DsigError },
    #[error(
        "{dir} already holds {found}: restore into an empty or new folder, or give --replace to replace the hub's files there"
    )]
    NotEmpty { dir: PathBuf, found: String },
    #[error("a hub is serving from {dir} (or another restore runs there): stop it before restoring")]
    InUse { dir: PathBuf },
}

impl BackupError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> BackupError {
        let path = path.into();
        move |source| BackupError::Io { action, path, source }
    }
}

/// The archive's table of contents, written first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub format: u32,
    /// The version of crossfed that took the backup.
    pub crossfed_version: String,
    /// When the backup was taken (Unix seconds).
    pub created_at: i64,
    /// The newest migration the database had; absent in a keys-only backup.
    pub schema_version: Option<i64>,
    pub files: Vec<FileEntry>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Reads `reader` to its end into `sink`, returning the byte count and SHA-256 (lowercase hex).
pub(crate) fn copy_hashed(mut reader: impl Read, mut sink: impl std::io::Write) -> std::io::Result<(u64, String)> {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buffer)?;
        let Some(chunk) = buffer.get(..n).filter(|c| !c.is_empty()) else { break };
        context.update(chunk);
        sink.write_all(chunk)?;
        total += n as u64;
    }
    let hex = crossfed_random::to_hex(context.finish().as_ref());
    Ok((total, hex))
}

/// Loads each key pair of each role among `names` (`content` gives a file's bytes): a role's
/// current pair must be there, a next or previous one only if either of its files is; the
/// assertion role (`signing`) must be there. The pair that does not load, and why.
pub(crate) fn check_key_pairs(
    names: &[String],
    content: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<(), (String, crossfed_xmldsig::DsigError)> {
    let mut stems: Vec<&str> = names.iter().filter_map(|n| crate::keys::key_file_stem(n)).collect();
    stems.push("signing");
    stems.sort_unstable();
    stems.dedup();
    for stem in stems {
        for (slot, suffix) in [("current", ""), ("next", "-next"), ("previous", "-previous")] {
            let (key, cert) = (content(&format!("{stem}{suffix}.key")), content(&format!("{stem}{suffix}.crt")));
            if slot != "current" && key.is_none() && cert.is_none() {
                continue;
            }
            crossfed_xmldsig::SigningKey::from_pem(&key.unwrap_or_default(), &cert.unwrap_or_default())
                .map_err(|source| (format!("{stem} {slot}"), source))?;
        }
    }
    Ok(())
}

/// Whether `name` is a file an archive may hold.
pub(crate) fn is_known(name: &str) -> bool {
    name == DATABASE || is_key_file(name)
}

/// Whether the file `name` holds a secret (written 0600), rather than a certificate (0644).
pub(crate) fn is_public(name: &str) -> bool {
    name.ends_with(".crt")
}
