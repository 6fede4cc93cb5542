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
