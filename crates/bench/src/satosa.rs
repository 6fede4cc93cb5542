//! SATOSA for `--scenario proxy`: its configuration (the templates in
//! crates/testkit/peers/satosa, written into a temporary folder with fresh keys), its SP
//! metadata made by its own `satosa-saml-metadata`, and the proxy itself under gunicorn.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::child::Server;

/// The configuration files, as committed; relative paths in them are resolved from the folder
/// they are written to.
const FILES: [(&str, &str); 4] = [
    ("proxy_conf.yaml", include_str!("../../testkit/peers/satosa/proxy_conf.yaml")),
    ("internal_attributes.yaml", include_str!("../../testkit/peers/satosa/internal_attributes.yaml")),
    ("plugins/saml2_frontend.yaml", include_str!("../../testkit/peers/satosa/plugins/saml2_frontend.yaml")),
    ("plugins/saml2_backend.yaml", include_str!("../../testkit/peers/satosa/plugins/saml2_backend.yaml")),
];

/// The virtualenv scripts/install-satosa makes, checked for the two programs used.
pub(super) fn venv(given: Option<&Path>) -> Result<PathBuf> {
    let venv = match given {
        Some(path) => path.to_path_buf(),
        None => {
            let peers = match std::env::var_os("CROSSFED_PEERS_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => {
                    let home = std::env::var_os("HOME").context("HOME is not set; give --satosa-venv")?;
                    PathBuf::from(home).join(".cache").join("crossfed-peers")
                }
            };
            peers.join("satosa-venv")
        }
    };
    for program in ["gunicorn", "satosa-saml-metadata"] {
        if !venv.join("bin").join(program).is_file() {
            bail!("{} has no bin/{program}: run scripts/install-satosa (or give --satosa-venv)", venv.display());
        }
    }
    Ok(venv)
}

/// SATOSA's configuration, written and ready to start.
pub(super) struct Prepared {
    dir: PathBuf,
    venv: PathBuf,
    base_url: String,
    state_key: String,
    /// The backend's SP metadata, for corp to import.
    pub backend_metadata: PathBuf,
    /// The frontend's entity ID: its IdP metadata is served there.
    pub frontend_entity_id: String,
}

fn write_file(path: &Path, content: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))
}

/// Writes the configuration into `dir` with new keys and the SP's metadata, and has
/// `satosa-saml-metadata` describe the backend (before corp runs: its folder of IdP metadata is
/// still empty, which the SP metadata does not depend on).
pub(super) fn prepare(dir: &Path, venv: &Path, base_url: &str, sp_metadata: &str) -> Result<Prepared> {
    for (name, content) in FILES {
        write_file(&dir.join(name), content.as_bytes())?;
    }
    for (name, common_name) in [("frontend", "SATOSA frontend (bench)"), ("backend", "SATOSA backend (bench)")] {
        let key = crossfed_xmldsig::SigningKey::generate_rsa(common_name, crossfed_clock::Clock::system().now(), 2)
            .context("a key for SATOSA")?;
        write_file(&dir.join(format!("keys/{name}.crt")), key.certificate().to_pem().as_bytes())?;
        crossfed_files::create_private(&dir.join(format!("keys/{name}.key")), key.private_key_pem().as_bytes())
            .with_context(|| format!("writing SATOSA's {name} key"))?;
    }
    write_file(&dir.join("sp-metadata/bench-sp.xml"), sp_metadata.as_bytes())?;
    std::fs::create_dir_all(dir.join("idp-metadata")).context("creating SATOSA's IdP metadata folder")?;
    std::fs::create_dir_all(dir.join("metadata")).context("creating SATOSA's metadata folder")?;
    let prepared = Prepared {
        dir: dir.to_path_buf(),
        venv: venv.to_path_buf(),
        base_url: base_url.to_string(),
        state_key: crossfed_random::hex::<32>(),
        backend_metadata: dir.join("metadata/backend.xml"),
        frontend_entity_id: format!("{base_url}/Saml2IDP/proxy.xml"),
    };
    let output = prepared
        .command("satosa-saml-metadata")
        .args(["proxy_conf.yaml", "--no-sign", "--dir", "metadata"])
        .output()
        .context("running satosa-saml-metadata")?;
    if !output.status.success() || !prepared.backend_metadata.is_file() {
        bail!("satosa-saml-metadata failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(prepared)
}

impl Prepared {
    /// A program of the virtualenv, run in the configuration folder with SATOSA's environment.
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.venv.join("bin").join(program));
        command
            .current_dir(&self.dir)
            .env("SATOSA_CONFIG", "proxy_conf.yaml")
            .env("SATOSA_BASE", &self.base_url)
            .env("SATOSA_STATE_ENCRYPTION_KEY", &self.state_key)
            .stdin(Stdio::null());
        command
    }

    /// Starts SATOSA under gunicorn (`workers` sync workers, its default worker class) with
    /// corp's IdP metadata, and waits until it serves its IdP metadata.
    pub async fn start(self, corp_metadata: &[u8], workers: usize) -> Result<Server> {
        write_file(&self.dir.join("idp-metadata/corp.xml"), corp_metadata)?;
        let bind = self.base_url.trim_start_matches("http://").to_string();
        let mut command = self.command("gunicorn");
        // No control socket: gunicorn would put it under ~/.gunicorn, shared between runs.
        command.args(["--workers", &workers.to_string(), "--bind", &bind, "--no-control-socket", "satosa.wsgi:app"]);
        let mut server = Server::start("SATOSA", command, &self.dir.join("satosa.log"))?;
        server.wait_until_serving(&self.frontend_entity_id).await?;
        Ok(server)
    }
}

/// The installed versions, as `SATOSA 8.6.0, pysaml2 7.5.5, gunicorn 27.0.1`, and xmlsec1's.
pub(super) fn versions(venv: &Path) -> (Vec<(String, String)>, Option<String>) {
    let script =
        "from importlib.metadata import version as v\nfor p in ('SATOSA', 'pysaml2', 'gunicorn'): print(p, v(p))";
    let python = Command::new(venv.join("bin").join("python")).args(["-c", script]).output();
    let packages = python
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(p, v)| (p.to_string(), v.trim().to_string())))
        .collect();
    let xmlsec = Command::new("xmlsec1")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(|l| l.trim().to_string()));
    (packages, xmlsec)
}
