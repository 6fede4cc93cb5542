//! Files that hold secrets or session material (keys, tokens, databases): created readable by
//! their owner only, in folders only their owner may enter, and written whole or not at all —
//! the content goes to a temporary file that is flushed to disk before it takes the final name,
//! so a crash or a full disk leaves the old file or none, never a truncated one.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The mode of private files and folders (Unix); elsewhere the platform's defaults apply.
const PRIVATE_FILE: u32 = 0o600;
const PRIVATE_DIR: u32 = 0o700;
/// Certificates and metadata: anyone may read them.
const PUBLIC_FILE: u32 = 0o644;

/// Creates `dir` (and its parents) if missing and makes it private; returns whether an existing
/// folder that others could enter was tightened (worth saying in the log).
pub fn private_dir(dir: &Path) -> std::io::Result<bool> {
    if dir.is_dir() {
        return tighten(dir, PRIVATE_DIR);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(PRIVATE_DIR);
    }
    builder.create(dir)?;
    Ok(false)
}

/// Makes an existing file private if others may read it; returns whether it had to.
pub fn tighten_file(path: &Path) -> std::io::Result<bool> {
    tighten(path, PRIVATE_FILE)
}

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & 0o077 == 0 {
        return Ok(false);
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(true)
}

#[cfg(not(unix))]
fn tighten(path: &Path, _mode: u32) -> std::io::Result<bool> {
    std::fs::metadata(path).map(|_| false)
}

/// Whether others than the owner may read `path`.
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Creates the private file `path` with `content`, whole or not at all; an existing file is
/// left as it is and the answer is `AlreadyExists`.
pub fn create_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let temporary = write_temporary(path, content, PRIVATE_FILE)?;
    // A hard link takes the name only if it is free, atomically.
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    linked?;
    sync_parent(path)
}

/// Writes the private file `path` with `content`, replacing what was there, whole or not at all.
pub fn replace_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    replace(path, content, PRIVATE_FILE)
}

/// Writes the public file `path` (a certificate, metadata) with `content`, replacing what was
/// there, whole or not at all.
pub fn replace_public(path: &Path, content: &[u8]) -> std::io::Result<()> {
    replace(path, content, PUBLIC_FILE)
}

/// Writes the private file `path` with what `write` puts in it, replacing what was there, whole
/// or not at all: for content too large to hold in memory (a backup archive). `write` gets the
/// temporary file; a failure there leaves neither it nor a changed `path`.
pub fn replace_private_with<E: From<std::io::Error>>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
) -> Result<(), E> {
    let temporary = temporary_beside(path);
    let written = open_new(&temporary, PRIVATE_FILE).map_err(E::from).and_then(|mut file| {
        write(&mut file)?;
        file.sync_all().map_err(E::from)
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    if let Err(e) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e.into());
    }
    sync_parent(path).map_err(E::from)
}

fn replace(path: &Path, content: &[u8], mode: u32) -> std::io::Result<()> {
    let temporary = write_temporary(path, content, mode)?;
    if let Err(e) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    sync_parent(path)
}

/// Writes `content` to a new temporary file beside `path` and flushes it to disk; on any
/// failure nothing is left behind.
fn write_temporary(path: &Path, content: &[u8], mode: u32) -> std::io::Result<PathBuf> {
    let temporary = temporary_beside(path);
    let written = open_new(&temporary, mode).and_then(|mut file| {
        file.write_all(content)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(temporary)
}

/// A fresh hidden name beside `path`, ending in `.tmp`.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    path.with_file_name(format!(".{name}.{}.tmp", crossfed_random::hex::<8>()))
}

fn open_new(path: &Path, mode: u32) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Flushes the folder holding `path`, so its new name survives a crash.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// An exclusive lock on `DIR/NAME`, held until dropped: instances sharing a folder take turns
/// at what must not interleave (creating the first key, say).
pub struct FolderLock {
    _file: File,
}

/// Waits for the exclusive lock `name` in `dir`.
pub fn lock(dir: &Path, name: &str) -> std::io::Result<FolderLock> {
    let path = dir.join(name);
    let file = match open_new(&path, PRIVATE_FILE) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::AlreadyExists => OpenOptions::new().write(true).open(&path)?,
        Err(e) => return Err(e),
    };
    file.lock()?;
    Ok(FolderLock { _file: file })
}

/// A data folder's "in use" lock: held shared by every process serving from the folder, taken
/// exclusively by what must not run beside them (a restore). The operating system drops it when
/// the process ends, however it ends.
pub struct InUse {
    _file: File,
}

/// The name of the in-use lock file in a data folder.
const IN_USE: &str = ".in-use.lock";

/// Takes `dir`'s in-use lock shared, for a process that serves from it; `WouldBlock` when a
/// restore holds it.
pub fn use_shared(dir: &Path) -> std::io::Result<InUse> {
    let file = open_lock_file(&dir.join(IN_USE))?;
    file.try_lock_shared().map_err(std::io::Error::from)?;
    Ok(InUse { _file: file })
}

/// Takes `dir`'s in-use lock exclusively; `WouldBlock` while a process serves from `dir`.
pub fn use_exclusive(dir: &Path) -> std::io::Result<InUse> {
    let file = open_lock_file(&dir.join(IN_USE))?;
    file.try_lock().map_err(std::io::Error::from)?;
    Ok(InUse { _file: file })
}

fn open_lock_file(path: &Path) -> std::io::Result<File> {
    match open_new(path, PRIVATE_FILE) {
        Ok(file) => Ok(file),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => OpenOptions::new().write(true).open(path),
        Err(e) => Err(e),
    }
}

/// Whether `e` says the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_files_are_created_once_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        create_private(&path, b"first").unwrap();
        let again = create_private(&path, b"second").unwrap_err();
        assert_eq!(again.kind(), ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        replace_private(&path, b"third").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["signing.key"], "no temporary file is left behind");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn folders_and_files_are_tightened_and_public_files_stay_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        assert!(!private_dir(&data).unwrap(), "a new folder needs no tightening");
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(private_dir(&data).unwrap());
        assert_eq!(mode(&data), 0o700);
        let db = data.join("hub.db");
        std::fs::write(&db, b"x").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(readable_by_others(&db));
        assert!(tighten_file(&db).unwrap());
        assert!(!readable_by_others(&db));
        let cert = data.join("signing.crt");
        replace_public(&cert, b"cert").unwrap();
        assert_eq!(mode(&cert), 0o644);
    }

    #[test]
    fn a_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path(), ".lock").unwrap();
        let file = OpenOptions::new().write(true).open(dir.path().join(".lock")).unwrap();
        assert!(file.try_lock().is_err(), "a second holder must wait");
        drop(held);
        assert!(file.try_lock().is_ok());
    }

    #[test]
    fn servers_share_a_folder_and_a_restore_waits_for_none_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let first = use_shared(dir.path()).unwrap();
        let second = use_shared(dir.path()).unwrap();
        let refused = use_exclusive(dir.path()).err().unwrap();
        assert_eq!(refused.kind(), ErrorKind::WouldBlock);
        drop((first, second));
        let restoring = use_exclusive(dir.path()).unwrap();
        assert_eq!(use_shared(dir.path()).err().unwrap().kind(), ErrorKind::WouldBlock);
        drop(restoring);
        assert!(use_shared(dir.path()).is_ok());
    }

    #[test]
    fn a_streamed_private_file_is_whole_or_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("backup.tar");
        replace_private_with(&path, |file| file.write_all(b"whole")).unwrap();
        assert_eq!((std::fs::read(&path).unwrap(), mode(&path)), (b"whole".to_vec(), 0o600));
        let failed = replace_private_with(&path, |file| {
            file.write_all(b"half")?;
            Err(std::io::Error::other("stopped"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"whole", "the old file stays");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
    }
}
