//! The two AWS calls of a coordinated rollover: UpdateSAMLProvider with the hub's metadata, and
//! an AssumeRoleWithSAML signed by the key under test, which proves the account accepts it.

use crossfed_xmldsig::SigningKey;

use crate::apps::catalog::CatalogEntry;
use crate::check::TargetAccess;
use crate::state::Hub;

/// Replaces the certificates `provider` in `account` trusts with those in `metadata`.
pub(crate) async fn update_provider(
    hub: &Hub,
    access: &TargetAccess,
    account: &str,
    provider: &str,
    metadata: &str,
) -> Result<(), String> {
    let target = crate::check::target(access, "us-east-1", &hub.clock).map_err(|e| e.to_string())?;
    let arn = format!("arn:aws:iam::{account}:saml-provider/{provider}");
    target
        .iam
        .call("iam", "UpdateSAMLProvider", &[("SAMLProviderArn", &arn), ("SAMLMetadataDocument", metadata)])
        .await
        .map(drop)
        .map_err(|e| format!("UpdateSAMLProvider {arn}: {e}"))
}

/// Signs in to the application's role through `provider` with an assertion signed by `key`;
/// the assumed role's ARN.
pub(crate) async fn assume_role(
    hub: &Hub,
    access: &TargetAccess,
    id: &str,
    entry: &CatalogEntry,
    account: &str,
    provider: &str,
    key: &SigningKey,
) -> Result<String, String> {
    let _ = (hub, access, id, entry, account, provider, key);
    Err("not built yet".to_string())
}
