//! The two AWS calls of a coordinated rollover: UpdateSAMLProvider with the hub's metadata, and
//! an AssumeRoleWithSAML signed by the key under test, which proves the account accepts it.

use crossfed_xmldsig::SigningKey;

use super::peers::Provider;
use crate::apps::catalog::CatalogEntry;
use crate::check::TargetAccess;
use crate::state::Hub;

/// Replaces the certificates `provider` trusts with those in `metadata`.
pub(crate) async fn update_provider(
    hub: &Hub,
    access: &TargetAccess,
    provider: &Provider,
    metadata: &str,
) -> Result<(), String> {
    let arn = &provider.pair.provider_arn;
    let iam = access.iam(&hub.clock).map_err(|e| e.to_string())?;
    iam.update_saml_provider(arn, metadata).await.map(drop).map_err(|e| format!("UpdateSAMLProvider {arn}: {e}"))
}

/// Signs in to application `id`'s role behind `provider` with an assertion signed by `key`; the
/// assumed role session's ARN.
pub(crate) async fn assume_role(
    hub: &Hub,
    access: &TargetAccess,
    id: &str,
    entry: &CatalogEntry,
    provider: &Provider,
    key: &SigningKey,
) -> Result<String, String> {
    let issuer = hub.app_entity_id(id);
    crate::aws::key_check::verify_key(access, &entry.app, &issuer, &provider.pair, key, hub.saml_now())
        .await
        .map_err(|e| e.to_string())
}
