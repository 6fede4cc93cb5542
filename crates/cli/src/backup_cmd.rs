//! `crossfed backup` and `crossfed restore`: the data folder (database snapshot, signing keys,
//! admin token) to one archive file and back; the work is `crossfed_hub::backup`'s.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use crossfed_hub::backup::BackupSource;

use crate::process::say;

#[derive(Args)]
pub struct BackupArgs {
    /// The archive to write (replaced whole, readable by its owner only).
    #[arg(long)]
    to: PathBuf,
    /// The hub's data folder, as given to `crossfed serve`; it may be serving.
    #[arg(long, default_value = "crossfed-data/hub")]
    data_dir: PathBuf,
    /// The store's URL when it is not the data folder's SQLite file, as given to `crossfed serve`.
    #[arg(long)]
    database_url: Option<String>,
    /// Only the keys and the admin token (for a PostgreSQL store, backed up with pg_dump).
    #[arg(long)]
    keys_only: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The archive `crossfed backup` wrote.
    #[arg(long)]
    from: PathBuf,
    /// The data folder to restore into: new or empty, and no hub may serve from it.
    #[arg(long)]
    data_dir: PathBuf,
    /// Replace the hub's files in a data folder that holds some.
    #[arg(long)]
    replace: bool,
}

pub fn backup(args: BackupArgs) -> Result<ExitCode> {
    let source = match (args.keys_only, args.database_url.as_deref()) {
        (true, _) => BackupSource::KeysOnly,
        (false, None) => BackupSource::Sqlite(crate::process::hub_database(&args.data_dir)),
        (false, Some(url)) => match url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            Some(file) => BackupSource::Sqlite(PathBuf::from(file.split('?').next().unwrap_or(file))),
            None => return Err(crossfed_hub::backup::BackupError::Postgres(redacted(url)).into()),
        },
    };
    let taken = crossfed_hub::backup::backup(&args.data_dir, &source, &args.to, crate::process::now())?;
    let schema = taken.schema_version.map(|v| format!(", schema version {v}")).unwrap_or_default();
    say(&format!(
        "backup written to {} ({} bytes{schema}): {}",
        args.to.display(),
        taken.bytes,
        taken.files.join(", ")
    ));
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> Result<ExitCode> {
    let restored = crossfed_hub::backup::restore(&args.from, &args.data_dir, args.replace)?;
    let schema = restored.schema_version.map(|v| format!(", schema version {v}")).unwrap_or_default();
    say(&format!(
        "restored into {}: {} (taken by crossfed {} at {}{schema})",
        args.data_dir.display(),
        restored.files.join(", "),
        restored.taken_by,
        restored.taken_at_text()
    ));
    Ok(ExitCode::SUCCESS)
}

/// A database URL without its password, to say in an error.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = url.get(scheme + 3..at).unwrap_or("");
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}{}", url.get(..scheme + 3).unwrap_or(""), url.get(at..).unwrap_or(""))
        }
        _ => url.to_string(),
    }
}
