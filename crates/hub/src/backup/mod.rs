//! Backups of a hub's data folder and their restore. A backup is one tar archive (inspect it with
//! `tar tvf`): a manifest (`crossfed-backup.json`: the format, the crossfed version, the schema
//! version, each file's size and SHA-256), a consistent snapshot of the SQLite store taken while
//! the hub serves, the signing keys (current, and a staged next or kept previous pair) and the
//! first admin token — a database restored without its keys would break every application that
//! trusts the hub's certificate. A restore checks the whole archive before it changes anything in
//! the data folder, and refuses a folder a hub serves from.

mod archive;
mod restore;
mod take;

pub use archive::{BackupError, MANIFEST};
pub use restore::{Restored, restore};
pub use take::{Backup, BackupSource, backup};
