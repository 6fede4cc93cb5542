//! Secrets of the configuration file, each given one of three ways under one rule: inline
//! (`token = "…"`), in a file (`token_file = "/run/secrets/scim"`, surrounding whitespace
//! trimmed — a trailing newline is not part of a token), or in an environment variable
//! (`token_env = "SCIM_TOKEN"`, taken exactly). The names of the settings are the same for every
//! secret (`X`, `X_file`, `X_env`), and the values are never logged nor said in an error.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a secret could not be read; each names the setting, and the file or variable.
#[derive(Debug, Error)]
pub enum SecretError {
    #[error("{whose}: give one of {what}, {what}_file or {what}_env, not several")]
    Several { whose: String, what: &'static str },
    #[error("{whose}: give {what}, {what}_file or {what}_env")]
    Missing { whose: String, what: &'static str },
    #[error("{whose}: reading {what}_file {path}: {source}")]
    File { whose: String, what: &'static str, path: PathBuf, source: std::io::Error },
    #[error(
        "{whose}: {what}_env names the environment variable {variable}, which is not set: set it, or give {what} another way"
    )]
    Unset { whose: String, what: &'static str, variable: String },
    #[error("{whose}: the environment variable {variable} ({what}_env) is not valid UTF-8")]
    NotUnicode { whose: String, what: &'static str, variable: String },
    #[error("{whose}: {what} from {from} is empty")]
    Empty { whose: String, what: &'static str, from: String },
}

/// One secret setting as the file gives it: its three ways, at most one used.
#[derive(Debug, Clone, Copy)]
pub struct SecretSetting<'a> {
    /// Who the secret is for, as errors name it ("provisioning target downstream").
    pub whose: &'a str,
    /// The setting's name ("token").
    pub what: &'static str,
    pub value: Option<&'a str>,
    pub file: Option<&'a Path>,
    pub env: Option<&'a str>,
}

impl SecretSetting<'_> {
    /// The secret, or `None` when none of the three ways is given.
    pub fn read(&self) -> Result<Option<String>, SecretError> {
        let (whose, what) = (self.whose.to_string(), self.what);
        match (self.value, self.file, self.env) {
            (None, None, None) => Ok(None),
            (Some(value), None, None) => Ok(Some(value.to_string())),
            (None, Some(path), None) => {
                let text = std::fs::read_to_string(path).map_err(|source| SecretError::File {
                    whose: whose.clone(),
                    what,
                    path: path.to_path_buf(),
                    source,
                })?;
                let secret = text.trim();
                if secret.is_empty() {
                    return Err(SecretError::Empty { whose, what, from: path.display().to_string() });
                }
                Ok(Some(secret.to_string()))
            }
            (None, None, Some(variable)) => {
                let variable = variable.to_string();
                match std::env::var(&variable) {
                    Ok(secret) if secret.is_empty() => Err(SecretError::Empty { whose, what, from: variable }),
                    Ok(secret) => Ok(Some(secret)),
                    Err(std::env::VarError::NotPresent) => Err(SecretError::Unset { whose, what, variable }),
                    Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode { whose, what, variable }),
                }
            }
            _ => Err(SecretError::Several { whose, what }),
        }
    }

    /// The secret, which must be given one way.
    pub fn require(&self) -> Result<String, SecretError> {
        self.read()?.ok_or_else(|| SecretError::Missing { whose: self.whose.to_string(), what: self.what })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn setting<'a>(value: Option<&'a str>, file: Option<&'a Path>, env: Option<&'a str>) -> SecretSetting<'a> {
        SecretSetting { whose: "provisioning target t", what: "token", value, file, env }
    }

    #[test]
    fn each_way_gives_the_secret_and_errors_name_the_setting_never_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n").unwrap();
        assert_eq!(setting(Some("inline"), None, None).require().unwrap(), "inline");
        assert_eq!(setting(None, Some(&file), None).require().unwrap(), "from-file");
        // PATH is set in every environment the tests run in.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(setting(None, None, Some("PATH")).require().unwrap(), path);
        assert_eq!(setting(None, None, None).read().unwrap(), None);

        let several = setting(Some("inline"), Some(&file), None).require().unwrap_err().to_string();
        assert!(several.contains("token, token_file or token_env, not several") && !several.contains("inline"));
        let unset = setting(None, None, Some("CROSSFED_TEST_SURELY_UNSET")).require().unwrap_err().to_string();
        assert!(unset.contains("environment variable CROSSFED_TEST_SURELY_UNSET, which is not set"), "{unset}");
        let missing = setting(None, Some(&dir.path().join("none")), None).require().unwrap_err().to_string();
        assert!(missing.contains("reading token_file") && missing.contains("none"), "{missing}");
        std::fs::write(&file, "\n").unwrap();
        let empty = setting(None, Some(&file), None).require().unwrap_err().to_string();
        assert!(empty.contains("is empty"), "{empty}");
        assert!(
            setting(None, None, None)
                .require()
                .unwrap_err()
                .to_string()
                .contains("give token, token_file or token_env")
        );
    }
}
