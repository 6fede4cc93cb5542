//! Restoring a backup into a data folder: refused while a hub serves from the folder, and into a
//! folder that holds anything unless told to replace it; every file of the archive is unpacked
//! into a private scratch folder and checked (checksums, SQLite's integrity check, a schema no
//! newer than this binary's, key pairs that load) before the first file of the data folder
//! changes.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::archive::{
    BackupError, DATABASE, DATABASE_COMPANIONS, FORMAT, MANIFEST, Manifest, SMALL_FILE_LIMIT, check_key_pairs,
    copy_hashed, is_known, is_public,
};

/// What a restore brought back.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The files written into the data folder.
    pub files: Vec<String>,
    /// The restored database's schema version (the hub migrates it further at its next start).
    pub schema_version: Option<i64>,
    /// The version of crossfed that took the backup, and when (Unix seconds).
    pub taken_by: String,
    pub taken_at: i64,
}

impl Restored {
    /// When the backup was taken, as RFC 3339 (UTC).
    pub fn taken_at_text(&self) -> String {
        time::OffsetDateTime::from_unix_timestamp(self.taken_at)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_else(|| format!("Unix time {}", self.taken_at))
    }
}

/// The unpacked archive, removed when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Files of a data folder that do not count as content: the locks.
fn is_lock(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".lock")
}

/// Restores the archive `from` into `data_dir` (created if missing). A folder that holds files
/// already is refused unless `replace`; then the hub's files there (database, keys, admin token)
/// are replaced by the archive's, and those the archive lacks are removed.
pub fn restore(from: &Path, data_dir: &Path, replace: bool) -> Result<Restored, BackupError> {
    crossfed_files::private_dir(data_dir).map_err(BackupError::io("creating", data_dir))?;
    let _in_use = crossfed_files::use_exclusive(data_dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock => BackupError::InUse { dir: data_dir.to_path_buf() },
        _ => BackupError::io("locking", data_dir)(e),
    })?;
    let present = contents(data_dir)?;
    if !present.is_empty() && !replace {
        return Err(BackupError::NotEmpty { dir: data_dir.to_path_buf(), found: present.join(", ") });
    }
    let staging = Staging(data_dir.join(format!(".restore-{}", crossfed_random::hex::<8>())));
    crossfed_files::private_dir(&staging.0).map_err(BackupError::io("creating", &staging.0))?;
    let manifest = unpack(from, &staging.0)?;
    let schema_version = check_unpacked(from, &staging.0, &manifest)?;
    let files: Vec<String> = manifest.files.iter().map(|f| f.name.clone()).collect();
    move_into_place(&staging.0, data_dir, &files)?;
    Ok(Restored { files, schema_version, taken_by: manifest.crossfed_version, taken_at: manifest.created_at })
}

/// The names in `dir` other than its locks and scratch folders of an earlier, interrupted restore.
fn contents(dir: &Path) -> Result<Vec<String>, BackupError> {
    let entries = std::fs::read_dir(dir).map_err(BackupError::io("reading", dir))?;
    let mut names = Vec::new();
    for entry in entries {
        let name = entry.map_err(BackupError::io("reading", dir))?.file_name().to_string_lossy().to_string();
        if !is_lock(&name) && !name.starts_with(".restore-") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Unpacks the archive `from` into `staging`, checking each file against the manifest.
fn unpack(from: &Path, staging: &Path) -> Result<Manifest, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup { path: from.to_path_buf(), reason };
    let file = File::open(from).map_err(BackupError::io("opening", from))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let entries = archive.entries().map_err(|e| not_a_backup(e.to_string()))?;
    let mut manifest: Option<Manifest> = None;
    let mut seen = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| not_a_backup(format!("reading its entries: {e}")))?;
        let name = entry.path().map_err(|e| not_a_backup(e.to_string()))?.to_string_lossy().to_string();
        let Some(manifest) = manifest.as_ref() else {
            manifest = Some(read_manifest(from, &name, &mut entry)?);
            continue;
        };
        let damaged = |reason: String| BackupError::Damaged { path: from.to_path_buf(), name: name.clone(), reason };
        let Some(expected) = manifest.files.iter().find(|f| f.name == name).filter(|_| is_known(&name)) else {
            return Err(damaged("is not in its manifest".to_string()));
        };
        if entry.header().entry_type() != tar::EntryType::Regular || seen.contains(&name) {
            return Err(damaged("is not one regular file".to_string()));
        }
        if name != DATABASE && expected.bytes > SMALL_FILE_LIMIT {
            return Err(damaged(format!("is {} bytes, too large for a key or token", expected.bytes)));
        }
        let target = staging.join(&name);
        let mut counted = (0, String::new());
        crossfed_files::replace_private_with(&target, |out| {
            counted = copy_hashed(&mut entry, out)?;
            Ok::<(), std::io::Error>(())
        })
        .map_err(|e| damaged(format!("cannot be unpacked: {e}")))?;
        let (bytes, sha256) = counted;
        if bytes != expected.bytes || sha256 != expected.sha256 {
            return Err(damaged(format!("does not match its checksum ({bytes} bytes, SHA-256 {sha256})")));
        }
        seen.push(name);
    }
    let manifest = manifest.ok_or_else(|| not_a_backup("it is empty".to_string()))?;
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.name)) {
        let reason = "is in its manifest but not in the archive (was it cut short?)".to_string();
        return Err(BackupError::Damaged { path: from.to_path_buf(), name: missing.name.clone(), reason });
    }
    Ok(manifest)
}

/// The manifest, which must be the archive's first entry.
fn read_manifest(from: &Path, name: &str, entry: &mut impl Read) -> Result<Manifest, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup { path: from.to_path_buf(), reason };
    if name != MANIFEST {
        return Err(not_a_backup(format!("its first entry is {name:?}, not {MANIFEST}")));
    }
    let mut text = Vec::new();
    entry.take(SMALL_FILE_LIMIT).read_to_end(&mut text).map_err(|e| not_a_backup(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| not_a_backup(format!("{MANIFEST}: {e}")))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64).unwrap_or(0);
    if format > u64::from(FORMAT) {
        return Err(BackupError::NewerFormat {
            path: from.to_path_buf(),
            found: u32::try_from(format).unwrap_or(u32::MAX),
        });
    }
    serde_json::from_value(value).map_err(|e| not_a_backup(format!("{MANIFEST}: {e}")))
}

/// Checks what was unpacked: the database whole and not newer than this binary, key pairs that
/// load. Returns the database's schema version.
fn check_unpacked(from: &Path, staging: &Path, manifest: &Manifest) -> Result<Option<i64>, BackupError> {
    let has = |name: &str| manifest.files.iter().any(|f| f.name == name);
    let schema_version = match has(DATABASE) {
        true => Some(crossfed_store::check_sqlite_snapshot(&staging.join(DATABASE))?.schema_version),
        false => None,
    };
    let content = |name: &str| has(name).then(|| std::fs::read(staging.join(name)).unwrap_or_default());
    let names: Vec<String> = manifest.files.iter().map(|f| f.name.clone()).collect();
    check_key_pairs(&names, content).map_err(|(pair, source)| BackupError::BadKeys {
        path: from.to_path_buf(),
        pair,
        source,
    })?;
    Ok(schema_version)
}

/// Replaces the hub's files in `data_dir` by the checked ones in `staging`: first the database's
/// companions (an old write-ahead log must never be applied to the restored database) and the
/// hub's files the archive lacks, then each file of the archive by a rename.
fn move_into_place(staging: &Path, data_dir: &Path, files: &[String]) -> Result<(), BackupError> {
    let stale = DATABASE_COMPANIONS
        .iter()
        .chain(std::iter::once(&DATABASE).filter(|_| !files.iter().any(|f| f == DATABASE)))
        .map(|name| name.to_string())
        .chain(super::archive::key_files_in(data_dir)?.into_iter().filter(|k| !files.contains(k)));
    for name in stale {
        let path = data_dir.join(name);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(BackupError::io("removing", path)(e)),
        }
    }
    for name in files {
        let (from, to) = (staging.join(name), data_dir.join(name));
        if is_public(name) {
            let content = std::fs::read(&from).map_err(BackupError::io("reading", &from))?;
            crossfed_files::replace_public(&to, &content).map_err(BackupError::io("writing", &to))?;
        } else {
            std::fs::rename(&from, &to).map_err(BackupError::io("writing", &to))?;
        }
    }
    File::open(data_dir).and_then(|d| d.sync_all()).map_err(BackupError::io("flushing", data_dir))
}
