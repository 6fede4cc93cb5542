//! The hub's signing key: created on first start (RSA-2048, self-signed certificate), kept in
//! files only its owner may read, and loaded on later starts.

use std::io::Write;
use std::path::Path;

use crossfed_xmldsig::SigningKey;

/// Creates a file readable by its owner only, refusing to overwrite an existing one.
pub fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content)
}

/// Whether others than the owner may read `path` (worth a warning at start).
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

/// Loads `DIR/signing.key` and `DIR/signing.crt`, creating them on first start.
pub fn load_or_create(dir: &Path, common_name: &str) -> Result<SigningKey, String> {
    let key_path = dir.join("signing.key");
    let cert_path = dir.join("signing.crt");
    if key_path.exists() {
        if readable_by_others(&key_path) {
            tracing::warn!("{} is readable by other users; restrict it with chmod 600", key_path.display());
        }
        let key = std::fs::read(&key_path).map_err(|e| format!("reading {}: {e}", key_path.display()))?;
        let cert = std::fs::read(&cert_path).map_err(|e| format!("reading {}: {e}", cert_path.display()))?;
        return SigningKey::from_pem(&key, &cert)
            .map_err(|e| format!("loading the signing key from {}: {e}", dir.display()));
    }
    let key = SigningKey::generate_rsa(common_name, 3650).map_err(|e| format!("creating a signing key: {e}"))?;
    write_private(&key_path, key.private_key_pem().as_bytes())
        .map_err(|e| format!("writing {}: {e}", key_path.display()))?;
    std::fs::write(&cert_path, key.certificate().to_pem())
        .map_err(|e| format!("writing {}: {e}", cert_path.display()))?;
    Ok(key)
}
