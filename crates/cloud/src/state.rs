//! What every handler of the account reads: the [`App`] with its settings, its administrator's
//! keys and its clock, and the account's resources in the store, typed.

use crossfed_store::{ObjectKey, ObjectStore, Store};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::AwsError;
use crate::model::{Credentials, Principal, Role, SamlProvider, kind};

/// Largest request body accepted: SAML responses and policy documents are far smaller.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct App {
    pub resources: Resources,
    pub settings: Settings,
    pub administrator: Credentials,
    /// The account's time (the system clock; tests fix or shift it).
    pub clock: crate::clock::Clock,
    /// What `/metrics` exposes: the listener's requests and refusals.
    pub metrics: std::sync::Arc<crossfed_web::metrics::HttpOnly>,
}

impl App {
    pub fn new(store: Store, settings: Settings, admin_access_key_id: &str, admin_secret: &str) -> Self {
        let administrator = Credentials {
            access_key_id: admin_access_key_id.to_string(),
            secret_access_key: admin_secret.to_string(),
            session_token: None,
            expiration: None,
            principal: Principal::Administrator { account: settings.account.clone() },
        };
        App {
            resources: Resources { store },
            settings,
            administrator,
            clock: crate::clock::Clock::system(),
            metrics: std::sync::Arc::default(),
        }
    }

    /// The current time by the account's clock, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.clock.unix()
    }
}

/// Settings of the emulated account.
#[derive(Debug, Clone)]
pub struct Settings {
    pub account: String,
    pub region: String,
    /// Sign-in URLs assertions may be addressed to (Recipient / Destination): this listener's
    /// own `/saml` first, then the real AWS ones, so that hub configurations work unchanged.
    pub signin_urls: Vec<String>,
    /// Base URL of this listener, for the console and federation links.
    pub base_url: String,
}

impl Settings {
    /// Settings for `account` served at `base_url` (e.g. `http://127.0.0.1:9443`).
    pub fn new(account: &str, region: &str, base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/').to_string();
        Settings {
            account: account.to_string(),
            region: region.to_string(),
            signin_urls: vec![
                format!("{base}/saml"),
                "https://signin.aws.amazon.com/saml".to_string(),
                format!("https://{region}.signin.aws.amazon.com/saml"),
            ],
            base_url: base,
        }
    }
}

/// A stored resource with the version an update must present.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T, AwsError> {
    serde_json::from_str(body)
        .map_err(|e| AwsError::new("InternalFailure", 500, format!("stored resource unreadable: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<String, AwsError> {
    serde_json::to_string(value).map_err(|e| AwsError::new("InternalFailure", 500, e.to_string()))
}

/// Typed access to the account's resources.
#[derive(Debug, Clone)]
pub struct Resources {
    pub store: Store,
}

impl Resources {
    pub async fn get<T: DeserializeOwned>(&self, kind: &str, id: &str) -> Result<Option<Versioned<T>>, AwsError> {
        match self.store.get_object(kind, id).await? {
            Some(o) => Ok(Some(Versioned { value: decode(&o.body)?, version: o.version })),
            None => Ok(None),
        }
    }

    pub async fn find<T: DeserializeOwned>(
        &self,
        kind: &str,
        scope: &str,
        name: &str,
    ) -> Result<Option<Versioned<T>>, AwsError> {
        match self.store.find_object(kind, scope, name).await? {
            Some(o) => Ok(Some(Versioned { value: decode(&o.body)?, version: o.version })),
            None => Ok(None),
        }
    }

    pub async fn list<T: DeserializeOwned>(&self, kind: &str, scope: &str) -> Result<Vec<T>, AwsError> {
        self.store.list_objects(kind, scope).await?.iter().map(|o| decode(&o.body)).collect()
    }

    /// Resources of a kind within a scope with their sort keys (lower-cased names), for paging.
    pub async fn list_keyed<T: DeserializeOwned>(&self, kind: &str, scope: &str) -> Result<Vec<(String, T)>, AwsError> {
        self.store.list_objects(kind, scope).await?.into_iter().map(|o| Ok((o.name_key, decode(&o.body)?))).collect()
    }

    pub async fn insert<T: Serialize>(&self, key: ObjectKey<'_>, value: &T, now: i64) -> Result<(), AwsError> {
        Ok(self.store.insert_object(key, &encode(value)?, now).await?)
    }

    /// Inserts a resource whose name must be new, answering a taken name with `taken()` (each
    /// API words that error its own way).
    pub async fn insert_new<T: Serialize>(
        &self,
        key: ObjectKey<'_>,
        value: &T,
        now: i64,
        taken: impl FnOnce() -> AwsError,
    ) -> Result<(), AwsError> {
        match self.insert(key, value, now).await {
            Err(e) if e.code == "EntityAlreadyExists" => Err(taken()),
            other => other,
        }
    }

    pub async fn update<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        value: &T,
        version: i64,
        now: i64,
    ) -> Result<i64, AwsError> {
        Ok(self.store.update_object(kind, id, &encode(value)?, version, now).await?)
    }

    pub async fn delete(&self, kind: &str, id: &str) -> Result<(), AwsError> {
        Ok(self.store.delete_object(kind, id).await?)
    }

    /// The role an ARN names (`arn:aws:iam::ACCOUNT:role[/PATH]/NAME`).
    pub async fn role_by_arn(&self, arn: &str) -> Result<Option<Versioned<Role>>, AwsError> {
        let Some((account, name)) = parse_iam_arn(arn, "role/") else {
            return Err(AwsError::validation(format!("{arn:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")));
        };
        let role: Option<Versioned<Role>> = self.find(kind::ROLE, account, &name.to_lowercase()).await?;
        // The path is part of the ARN: a role found by name under another path is another role.
        Ok(role.filter(|r| r.value.arn == arn))
    }

    /// The SAML provider an ARN names (`arn:aws:iam::ACCOUNT:saml-provider/NAME`).
    pub async fn provider_by_arn(&self, arn: &str) -> Result<Option<Versioned<SamlProvider>>, AwsError> {
        let Some((account, name)) = parse_iam_arn(arn, "saml-provider/") else {
            return Err(AwsError::validation(format!(
                "{arn:?} is not a SAML provider ARN (arn:aws:iam::ACCOUNT:saml-provider/NAME)"
            )));
        };
        let provider: Option<Versioned<SamlProvider>> =
            self.find(kind::SAML_PROVIDER, account, &name.to_lowercase()).await?;
        // Names are unique case-insensitively, but an ARN names exactly one spelling.
        Ok(provider.filter(|p| p.value.arn == arn))
    }
}

/// Splits `arn:aws:iam::ACCOUNT:TYPE/…/NAME` into (account, NAME).
pub fn parse_iam_arn<'a>(arn: &'a str, resource_type: &str) -> Option<(&'a str, &'a str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix(resource_type)?;
    let name = path_and_name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()).then_some((account, name))
}
