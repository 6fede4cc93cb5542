//! Native HTTPS for the listeners: a PEM certificate chain and private key, read with rustls
//! (aws-lc-rs, the crypto the rest of crossfed already uses) and reloaded without a restart when
//! either file changes. The files' modification times and sizes are checked every
//! [`CHECK_EVERY`]; a pair that does not load (half-written, mismatched) is logged and the last
//! good one keeps being served, so renewing a certificate (certbot, cert-manager) is: write the
//! new files, nothing else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

/// How often the certificate and key files are checked for changes.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Why a certificate and key could not be served.
#[derive(Debug, Error)]
pub enum TlsError {
    #[error("reading the TLS certificate chain {path}: {reason}; expected PEM `CERTIFICATE` blocks")]
    Certificates { path: PathBuf, reason: String },
    #[error("{path} holds no certificate; expected one or more PEM `CERTIFICATE` blocks, the server's first")]
    NoCertificate { path: PathBuf },
    #[error("reading the TLS private key {path}: {reason}; expected one PEM `PRIVATE KEY` block (PKCS#8, RSA or EC)")]
    Key { path: PathBuf, reason: String },
    #[error(
        "the private key {key} does not go with the certificate {cert}: {reason}; give the key the certificate was issued for"
    )]
    Mismatch { cert: PathBuf, key: PathBuf, reason: String },
    #[error("setting up TLS: {0}")]
    Config(String),
}

/// Where a listener's certificate chain and private key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What the files looked like when last read: a change of either means reading them again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Vec<(Option<SystemTime>, u64)>);

impl TlsFiles {
    fn stamp(&self) -> Stamp {
        let of = |path: &Path| std::fs::metadata(path).map_or((None, 0), |m| (m.modified().ok(), m.len()));
        Stamp(vec![of(&self.cert), of(&self.key)])
    }

    /// Reads and checks the pair: the chain, the key, and that the key is the certificate's.
    pub fn load(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| TlsError::Certificates { path: self.cert.clone(), reason: e.to_string() })?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate { path: self.cert.clone() });
        }
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| TlsError::Key { path: self.key.clone(), reason: e.to_string() })?;
        let certified = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Mismatch {
            cert: self.cert.clone(),
            key: self.key.clone(),
            reason: e.to_string(),
        })?;
        Ok(Arc::new(certified))
    }
}

fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// The certificate being served, swapped for a new one when the files change.
#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    current: RwLock<(Stamp, Arc<CertifiedKey>)>,
}

impl ReloadingCert {
    /// Loads the pair, refusing to start without a good one; warns when others may read the key.
    pub fn open(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        warn_if_key_readable(&files.key);
        let stamp = files.stamp();
        let key = files.load()?;
        Ok(Arc::new(ReloadingCert { files, current: RwLock::new((stamp, key)) }))
    }

    /// The certificate chain served now, its server certificate first.
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.served().cert.clone()
    }

    fn served(&self) -> Arc<CertifiedKey> {
        match self.current.read() {
            Ok(current) => current.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    fn stamp(&self) -> Stamp {
        match self.current.read() {
            Ok(current) => current.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// Reads the files again if they changed; returns whether a new pair is served. A pair that
    /// does not load is logged once per change, and the last good one kept.
    pub fn reload_if_changed(&self) -> bool {
        let stamp = self.files.stamp();
        if stamp == self.stamp() {
            return false;
        }
        let loaded = self.files.load();
        let mut current = match self.current.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        match loaded {
            Ok(key) => {
                *current = (stamp, key);
                tracing::info!("TLS certificate reloaded from {}", self.files.cert.display());
                warn_if_key_readable(&self.files.key);
                true
            }
            Err(e) => {
                // Remember the stamp so a broken pair is reported once, not every check.
                current.0 = stamp;
                tracing::warn!("the new TLS certificate or key was not loaded, the previous one is still served: {e}");
                false
            }
        }
    }

    /// Checks the files every [`CHECK_EVERY`] until the certificate is no longer used.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECK_EVERY).await;
                let Some(cert) = weak.upgrade() else { return };
                // Reading small files; not worth a blocking thread.
                cert.reload_if_changed();
            }
        })
    }

    /// A TLS acceptor serving this certificate, HTTP/1.1 only (as the listeners are).
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.served())
    }
}

fn warn_if_key_readable(key: &Path) {
    if crossfed_files::readable_by_others(key) {
        tracing::warn!("{} is readable by other users; restrict it with chmod 600", key.display());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> (TlsFiles, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap().self_signed(&key).unwrap();
        let files = TlsFiles { cert: dir.join("tls.crt"), key: dir.join("tls.key") };
        std::fs::write(&files.cert, cert.pem()).unwrap();
        std::fs::write(&files.key, key.serialize_pem()).unwrap();
        (files, cert.der().to_vec())
    }

    #[test]
    fn a_changed_pair_is_served_and_a_broken_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (files, first) = write_pair(dir.path(), "one.example");
        let served = ReloadingCert::open(files.clone()).unwrap();
        assert_eq!(served.chain()[0].as_ref(), first.as_slice());
        assert!(!served.reload_if_changed(), "nothing changed");

        // A key that is not the certificate's: refused, the old pair kept.
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&files.key, format!("{}\n", other.serialize_pem())).unwrap();
        assert!(!served.reload_if_changed());
        assert_eq!(served.chain()[0].as_ref(), first.as_slice());
        assert!(matches!(files.load(), Err(TlsError::Mismatch { .. })), "{:?}", files.load());

        let (_, second) = write_pair(dir.path(), "two.example");
        assert!(served.reload_if_changed());
        assert_eq!(served.chain()[0].as_ref(), second.as_slice());
    }

    #[test]
    fn files_without_a_certificate_or_key_say_what_they_should_hold() {
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles { cert: dir.path().join("c.pem"), key: dir.path().join("k.pem") };
        std::fs::write(&files.cert, "not a certificate").unwrap();
        let e = ReloadingCert::open(files.clone()).unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        let (pair, _) = write_pair(dir.path(), "x.example");
        let e = TlsFiles { cert: pair.cert, key: dir.path().join("missing.key") }.load().unwrap_err();
        assert!(e.to_string().contains("expected one PEM `PRIVATE KEY` block"), "{e}");
    }
}
