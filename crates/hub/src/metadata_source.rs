//! Where a SAML metadata document comes from: a file or a URL (exactly one of the two). The
//! upstream IdP's metadata and custom applications' SP metadata are both read here.

use std::path::Path;

use crossfed_saml::{EntityDescriptor, MetadataError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum FetchError {
    #[error("{whose}: reading {path}: {source}")]
    Read { whose: String, path: String, source: std::io::Error },
    #[error("{whose}: fetching {url}: {reason}")]
    Fetch { whose: String, url: String, reason: String },
    #[error("{whose}: give exactly one of metadata_file or metadata_url")]
    NotExactlyOne { whose: String },
    #[error("{whose} metadata: {source}")]
    Invalid { whose: String, source: MetadataError },
}

/// The bytes of a metadata document from a file or a URL, exactly one of which is given; `whose`
/// names it in errors.
pub async fn fetch_metadata(file: Option<&Path>, url: Option<&str>, whose: &str) -> Result<Vec<u8>, FetchError> {
    match (file, url) {
        (Some(file), None) => std::fs::read(file).map_err(|source| FetchError::Read {
            whose: whose.to_string(),
            path: file.display().to_string(),
            source,
        }),
        (None, Some(url)) => {
            let failed = |reason: String| FetchError::Fetch { whose: whose.to_string(), url: url.to_string(), reason };
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .map_err(|e| failed(format!("HTTP client: {e}")))?;
            let response = client.get(url).send().await.map_err(|e| failed(e.to_string()))?;
            if !response.status().is_success() {
                return Err(failed(format!("HTTP {}", response.status())));
            }
            Ok(response.bytes().await.map_err(|e| failed(e.to_string()))?.to_vec())
        }
        _ => Err(FetchError::NotExactlyOne { whose: whose.to_string() }),
    }
}

/// Metadata from a file or a URL, exactly one of which is given, parsed.
pub async fn read_metadata(
    file: Option<&Path>,
    url: Option<&str>,
    whose: &str,
) -> Result<EntityDescriptor, FetchError> {
    let xml = fetch_metadata(file, url, whose).await?;
    EntityDescriptor::parse(&xml).map_err(|source| FetchError::Invalid { whose: whose.to_string(), source })
}
