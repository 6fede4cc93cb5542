//! The flags of a web listener that `crossfed serve` and `crossfed cloud` share: HTTPS with a
//! certificate reloaded when its files change, the connection cap and timeouts, and the grace
//! period of a shutdown.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use crossfed_web::forwarded::TrustedProxies;
use crossfed_web::serving::ServeOptions;
use crossfed_web::tls::{ReloadingCert, TlsFiles};

#[derive(Args, Debug, Clone)]
pub struct ListenerArgs {
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first); reloaded
    /// when the file changes.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (readable by this user only).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The most connections open at once; further ones wait in the kernel's backlog until one
    /// closes. Keep it below the process's file limit (`ulimit -n`).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds a connection has to send a request's headers (and finish a TLS handshake),
    /// counted from when the server waits for them: also how long a kept-alive connection stays
    /// open without a request.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout_seconds: u64,
    /// Seconds without a byte read or written after which a connection is closed, wherever it
    /// is (a body sent too slowly, an answer not read).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout_seconds: u64,
    /// On SIGTERM or Ctrl-C: seconds the requests under way get to finish before their
    /// connections are closed.
    #[arg(long, default_value_t = 10)]
    pub shutdown_grace_seconds: u64,
}

impl ListenerArgs {
    /// The serving options, with the proxies whose forwarded addresses are believed.
    pub fn options(&self, trusted_proxies: TrustedProxies) -> Result<ServeOptions> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(open_certificate(cert, key)?),
            _ => None,
        };
        Ok(ServeOptions {
            tls,
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            header_timeout: Duration::from_secs(self.header_timeout_seconds),
            idle_timeout: Duration::from_secs(self.idle_timeout_seconds),
            shutdown_grace: Duration::from_secs(self.shutdown_grace_seconds),
            trusted_proxies,
        })
    }

    /// The scheme the listener itself speaks.
    pub fn scheme(&self) -> &'static str {
        if self.tls_cert.is_some() { "https" } else { "http" }
    }
}

fn open_certificate(cert: &std::path::Path, key: &std::path::Path) -> Result<Arc<ReloadingCert>> {
    ReloadingCert::open(TlsFiles { cert: cert.to_path_buf(), key: key.to_path_buf() })
        .with_context(|| format!("--tls-cert {} --tls-key {}", cert.display(), key.display()))
}

/// A public URL as configured: http or https, no trailing slash.
pub fn public_url(url: &str, flag: &str) -> Result<String> {
    let url = url.trim_end_matches('/');
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        anyhow::bail!("{flag} {url:?} is not an http:// or https:// URL; give the URL people reach this listener at");
    }
    Ok(url.to_string())
}
