//! What a key is for. Each role has its own key files and is rotated on its own: the key that
//! signs the hub's requests to the identity source must not change when the one applications
//! trust does, since the two are trusted by different peers.

use super::files::KeyError;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyRole {
    /// Signs AuthnRequests, LogoutRequests and LogoutResponses sent to the identity source;
    /// published in the hub's SP metadata.
    Request,
    /// Signs Responses and assertions for applications (every one without a key of its own);
    /// published in each application's IdP metadata.
    Assertion,
    /// Signs for one application that has a key of its own.
    Application(String),
}

impl KeyRole {
    /// The name commands and the API use: `request`, `assertion`, `assertion:APP`.
    pub fn name(&self) -> String {
        match self {
            KeyRole::Request => "request".to_string(),
            KeyRole::Assertion => "assertion".to_string(),
            KeyRole::Application(id) => format!("assertion:{id}"),
        }
    }

    /// The key files' stem in the data folder (`signing` keeps the name the hub's one key had).
    pub fn stem(&self) -> String {
        match self {
            KeyRole::Request => "request".to_string(),
            KeyRole::Assertion => "signing".to_string(),
            KeyRole::Application(id) => format!("app.{id}"),
        }
    }

    /// Who trusts the role's key, for people reading a status.
    pub fn describe(&self) -> String {
        match self {
            KeyRole::Request => {
                "signs the hub's requests to the identity source; the IdP trusts it from the hub's SP metadata".to_string()
            }
            KeyRole::Assertion => {
                "signs assertions for applications; they (and each AWS account's IAM SAML provider) trust it from the application's IdP metadata".to_string()
            }
            KeyRole::Application(id) => {
                format!("signs assertions for application {id} only; it trusts it from that application's IdP metadata")
            }
        }
    }

    /// The role `text` names.
    pub fn parse(text: &str) -> Result<KeyRole, KeyError> {
        match text {
            "request" => Ok(KeyRole::Request),
            "assertion" | "signing" => Ok(KeyRole::Assertion),
            _ => match text.strip_prefix("assertion:") {
                Some(id) if crate::apps::spec::check_id(id).is_ok() => Ok(KeyRole::Application(id.to_string())),
                _ => Err(KeyError::UnknownRole(text.to_string())),
            },
        }
    }
}

impl std::fmt::Display for KeyRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name_and_a_bad_name_is_refused() {
        for role in [KeyRole::Request, KeyRole::Assertion, KeyRole::Application("connect".into())] {
            assert_eq!(KeyRole::parse(&role.name()).ok(), Some(role));
        }
        for bad in ["", "assertion:", "assertion:../x", "encryption"] {
            assert!(matches!(KeyRole::parse(bad), Err(KeyError::UnknownRole(_))), "{bad}");
        }
    }
}
