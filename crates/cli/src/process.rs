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
