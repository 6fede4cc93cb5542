//! Taking a backup: a snapshot of the SQLite store while the hub serves, the key files read as
//! one consistent set, and the archive written privately, whole or not at all.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::archive::{BackupError, DATABASE, FORMAT, FileEntry, MANIFEST, Manifest, check_key_pairs, copy_hashed};

/// Where the database of the backup comes from.
#[derive(Debug, Clone)]
pub enum BackupSource {
    /// A SQLite file (the data folder's `hub.db`, or the file a `sqlite://` URL names).
    Sqlite(PathBuf),
    /// The keys only: the database is backed up by other means (PostgreSQL's `pg_dump`).
    KeysOnly,
}

/// What a backup holds.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The files in the archive, in order.
    pub files: Vec<String>,
    /// The database's schema version, when the backup holds one.
    pub schema_version: Option<i64>,
    /// The archive's size.
    pub bytes: u64,
}

/// A private scratch folder beside the archive, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Backs up the hub whose keys are in `data_dir` and whose database is `source` into the archive
/// `to` (replaced whole, or left as it was), at `now` (Unix seconds).
pub fn backup(data_dir: &Path, source: &BackupSource, to: &Path, now: i64) -> Result<Backup, BackupError> {
    let keys = read_keys(data_dir)?;
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("backup");
    let scratch = Scratch(to.with_file_name(format!(".{name}.{}.parts", crossfed_random::hex::<8>())));
    crossfed_files::private_dir(&scratch.0).map_err(BackupError::io("creating", &scratch.0))?;
    let mut files = Vec::new();
    let mut schema_version = None;
    if let BackupSource::Sqlite(database) = source {
        let copy = scratch.0.join(DATABASE);
        schema_version = Some(crossfed_store::snapshot_sqlite(database, &copy)?.schema_version);
        let (bytes, sha256) = File::open(&copy)
            .and_then(|f| copy_hashed(f, std::io::sink()))
            .map_err(BackupError::io("reading", &copy))?;
        files.push((FileEntry { name: DATABASE.to_string(), bytes, sha256 }, Content::File(copy)));
    }
    for (name, content) in keys {
        let (bytes, sha256) =
            copy_hashed(content.as_slice(), std::io::sink()).map_err(BackupError::io("hashing", to))?;
        files.push((FileEntry { name: name.to_string(), bytes, sha256 }, Content::Memory(content)));
    }
    let manifest = Manifest {
        format: FORMAT,
        crossfed_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: now,
        schema_version,
        files: files.iter().map(|(entry, _)| entry.clone()).collect(),
    };
    crossfed_files::replace_private_with(to, |file| write_archive(file, &manifest, &files, now))
        .map_err(BackupError::io("writing", to))?;
    let bytes = std::fs::metadata(to).map_err(BackupError::io("reading", to))?.len();
    let names = std::iter::once(MANIFEST.to_string()).chain(manifest.files.into_iter().map(|f| f.name)).collect();
    Ok(Backup { files: names, schema_version, bytes })
}

/// A file's content on its way into the archive.
enum Content {
    File(PathBuf),
    Memory(Vec<u8>),
}

fn write_archive(
    file: &mut File,
    manifest: &Manifest,
    files: &[(FileEntry, Content)],
    now: i64,
) -> std::io::Result<()> {
    let mut archive = tar::Builder::new(std::io::BufWriter::new(file));
    let json = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
    append(&mut archive, MANIFEST, json.len() as u64, now, json.as_slice())?;
    for (entry, content) in files {
        match content {
            Content::File(path) => append(&mut archive, &entry.name, entry.bytes, now, File::open(path)?)?,
            Content::Memory(bytes) => append(&mut archive, &entry.name, entry.bytes, now, bytes.as_slice())?,
        }
    }
    let mut buffered = archive.into_inner()?;
    std::io::Write::flush(&mut buffered)
}

fn append<W: std::io::Write>(
    archive: &mut tar::Builder<W>,
    name: &str,
    size: u64,
    now: i64,
    content: impl std::io::Read,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_path(name)?;
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(now).unwrap_or(0));
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    archive.append(&header, content)
}

/// The key files of `data_dir` as one set: every pair must load together (as a restore checks),
/// else a rotation moved files between the reads and they are read again.
fn read_keys(data_dir: &Path) -> Result<Vec<(String, Vec<u8>)>, BackupError> {
    const ATTEMPTS: usize = 3;
    let mut last = None;
    let mut last_missing = false;
    for _ in 0..ATTEMPTS {
        let mut found = Vec::new();
        let names = super::archive::key_files_in(data_dir)?;
        // Each role's files are read while its lock is held, so no activation moves them
        // between two reads (the locks are taken in name order, as one step takes one).
        let stems: std::collections::BTreeSet<&str> =
            names.iter().filter_map(|n| crate::keys::key_file_stem(n)).collect();
        let mut turns = Vec::new();
        for stem in stems {
            turns.push(
                crossfed_files::lock(data_dir, &format!(".{stem}.lock"))
                    .map_err(BackupError::io("locking", data_dir))?,
            );
        }
        for name in names {
            let path = data_dir.join(&name);
            match std::fs::read(&path) {
                Ok(content) => found.push((name, content)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(BackupError::io("reading", path)(e)),
            }
        }
        drop(turns);
        let content = |wanted: &str| found.iter().find(|(n, _)| *n == wanted).map(|(_, c)| c.clone());
        if content("signing.key").is_none() || content("signing.crt").is_none() {
            // An activation may be between its renames: look again shortly.
            last_missing = true;
            std::thread::sleep(std::time::Duration::from_millis(200));
            continue;
        }
        last_missing = false;
        let names: Vec<String> = found.iter().map(|(n, _)| n.clone()).collect();
        match check_key_pairs(&names, content) {
            Ok(()) => return Ok(found),
            Err((_, source)) => last = Some(source),
        }
    }
    match last {
        Some(source) if !last_missing => Err(BackupError::KeysMoving { path: data_dir.to_path_buf(), source }),
        _ => Err(BackupError::NoKeys { path: data_dir.to_path_buf() }),
    }
}
