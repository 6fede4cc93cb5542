//! The hub's signing key: created on first start (RSA-2048, self-signed certificate), kept in
//! files only its owner may read, and loaded on later starts. Rotation has an overlap: a staged
//! next key (`signing-next.*`) is published in metadata beside the current one, so service
//! providers can import it before it signs; activating it makes it the current key and keeps the
//! old one as `signing-previous.*`.

use std::io::Write;
use std::path::Path;

use crossfed_xmldsig::{Certificate, SigningKey};

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

fn paths(dir: &Path, stem: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    (dir.join(format!("{stem}.key")), dir.join(format!("{stem}.crt")))
}

/// The staged next certificate, if a rotation is under way.
pub fn next_certificate(dir: &Path) -> Result<Option<Certificate>, String> {
    let (_, cert_path) = paths(dir, "signing-next");
    match std::fs::read(&cert_path) {
        Ok(pem) => Certificate::from_pem(&pem)
            .map(Some)
            .map_err(|e| format!("reading the next certificate {}: {e}", cert_path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("reading {}: {e}", cert_path.display())),
    }
}

/// Creates the next key; it is published from the next start on and signs once activated.
pub fn stage_next(dir: &Path, common_name: &str) -> Result<Certificate, String> {
    let (key_path, cert_path) = paths(dir, "signing-next");
    if key_path.exists() {
        return Err(format!(
            "a next key is already staged ({}); activate it with `crossfed keys rotate --activate`",
            key_path.display()
        ));
    }
    if !dir.join("signing.key").exists() {
        return Err(format!("{} holds no current key; start the hub once first", dir.display()));
    }
    let key = SigningKey::generate_rsa(common_name, 3650).map_err(|e| format!("creating a signing key: {e}"))?;
    // The certificate last: a next certificate without its key is never published.
    write_private(&key_path, key.private_key_pem().as_bytes())
        .map_err(|e| format!("writing {}: {e}", key_path.display()))?;
    std::fs::write(&cert_path, key.certificate().to_pem())
        .map_err(|e| format!("writing {}: {e}", cert_path.display()))?;
    Ok(key.certificate().clone())
}

/// Makes the staged next key the current one; the current one becomes `signing-previous.*`.
pub fn activate_next(dir: &Path) -> Result<Certificate, String> {
    let (next_key, next_cert) = paths(dir, "signing-next");
    let (key, cert) = paths(dir, "signing");
    let (previous_key, previous_cert) = paths(dir, "signing-previous");
    let certificate = next_certificate(dir)?
        .ok_or_else(|| "no next key is staged; stage one with `crossfed keys rotate` first".to_string())?;
    // Both halves of the next key must load before anything moves.
    SigningKey::from_pem(
        &std::fs::read(&next_key).map_err(|e| format!("reading {}: {e}", next_key.display()))?,
        &std::fs::read(&next_cert).map_err(|e| format!("reading {}: {e}", next_cert.display()))?,
    )
    .map_err(|e| format!("the next key in {} does not load: {e}", dir.display()))?;
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|e| format!("moving {} to {}: {e}", from.display(), to.display()))
    };
    rename(&key, &previous_key)?;
    rename(&cert, &previous_cert)?;
    rename(&next_key, &key)?;
    rename(&next_cert, &cert)?;
    Ok(certificate)
}
