//! What every subcommand shares: printing to the terminal, the clock, and the shutdown signal.

/// Prints a line to standard output; a closed terminal or pipe must not stop a running server.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// The clock every subcommand runs by: the system's.
pub fn clock() -> crossfed_clock::Clock {
    crossfed_clock::Clock::system()
}

/// Current Unix time, by [`clock`].
pub fn now() -> i64 {
    clock().unix()
}

/// Completes on Ctrl-C or SIGTERM, for graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// The hub's SQLite file in data folder `dir`, where no --database-url says otherwise.
pub fn hub_database(dir: &std::path::Path) -> std::path::PathBuf {
    dir.join("hub.db")
}

/// Creates the data folder `dir` private to its owner (it holds keys, tokens and the database),
/// or makes an existing one private, saying so.
pub fn data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let tightened = crossfed_files::private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    if tightened {
        say(&format!("{} could be entered by other users; it is now private (chmod 700)", dir.display()));
    }
    Ok(())
}

/// Marks the data folder `dir` as served from until the answer is dropped (shared: several
/// instances may serve from one folder); refused while `crossfed restore` works there.
pub fn in_use(dir: &std::path::Path) -> anyhow::Result<crossfed_files::InUse> {
    crossfed_files::use_shared(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::WouldBlock => {
            anyhow::anyhow!("{} is being restored: start the hub once the restore is done", dir.display())
        }
        _ => anyhow::anyhow!("locking {}: {e}", dir.display()),
    })
}

/// How log lines are written: for people, or one JSON object per line for collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the log goes and what it keeps, for every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Log lines for people (`text`) or one JSON object per line (`json`).
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    /// Which levels to keep: `error`, `warn`, `info`, `debug`, `trace`, or a filter such as
    /// `info,crossfed::request=warn`; by default RUST_LOG, else `info`.
    #[arg(long, global = true)]
    pub log_level: Option<String>,
}

/// Installs the log: to standard error (standard output carries what a command prints).
pub fn install_log(args: &LogArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    use tracing_subscriber::EnvFilter;
    let filter = match &args.log_level {
        Some(level) => EnvFilter::try_new(level).with_context(|| format!("--log-level {level:?}"))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    use std::io::IsTerminal;
    let colours = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colours);
    let installed = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
    };
    installed.map_err(|e| anyhow::anyhow!("installing the log: {e}"))
}
