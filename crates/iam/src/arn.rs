//! Amazon Resource Names: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.

use thiserror::Error;

/// An ARN split into its components (borrowed from the input).
///
/// The resource component keeps any further colons
/// (`arn:aws:iam::123456789012:role/a:b` has resource `role/a:b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// The service namespace, such as `s3` or `iam`.
    pub service: &'a str,
    /// The Region, empty for global resources.
    pub region: &'a str,
    /// The 12-digit account ID, empty for some services (S3 buckets).
    pub account: &'a str,
    /// The resource, possibly with a type prefix and path.
    pub resource: &'a str,
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ArnError {
    /// The string does not begin with `arn:`.
    #[error("it does not start with \"arn:\"")]
    MissingPrefix,
    /// Fewer than six colon-separated parts.
    #[error("it has {0} colon-separated parts but an ARN needs 6")]
    TooFewParts(usize),
    /// The partition (second part) is empty.
    #[error("the partition (2nd part) is empty")]
    EmptyPartition,
    /// The service (third part) is empty.
    #[error("the service (3rd part) is empty")]
    EmptyService,
    /// The resource (sixth part) is empty.
    #[error("the resource (6th part) is empty")]
    EmptyResource,
}

impl<'a> Arn<'a> {
    /// Splits `s` into ARN components, checking the shape IAM requires.
    ///
    /// Wildcards are allowed anywhere; only the structure is checked.
    ///
    /// # Errors
    ///
    /// See [`ArnError`].
    pub fn parse(s: &'a str) -> Result<Self, ArnError> {
        let mut parts = s.splitn(6, ':');
        let mut next = || parts.next();
        let (prefix, partition, service, region, account, resource) = (next(), next(), next(), next(), next(), next());
        if prefix != Some("arn") {
            return Err(ArnError::MissingPrefix);
        }
        let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (partition, service, region, account, resource)
        else {
            return Err(ArnError::TooFewParts(s.split(':').count()));
        };
        if partition.is_empty() {
            return Err(ArnError::EmptyPartition);
        }
        if service.is_empty() {
            return Err(ArnError::EmptyService);
        }
        if resource.is_empty() {
            return Err(ArnError::EmptyResource);
        }
        Ok(Self { partition, service, region, account, resource })
    }
}

/// Whether `s` is a 12-digit AWS account ID.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_components() {
        let arn = Arn::parse("arn:aws:iam::123456789012:role/a:b").unwrap();
        assert_eq!(arn.partition, "aws");
        assert_eq!(arn.service, "iam");
        assert_eq!(arn.region, "");
        assert_eq!(arn.account, "123456789012");
        assert_eq!(arn.resource, "role/a:b");
        assert!(Arn::parse("arn:aws:s3:::bucket/*").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Arn::parse("aws:s3:::b"), Err(ArnError::MissingPrefix));
        assert_eq!(Arn::parse("arn:aws:s3:::"), Err(ArnError::EmptyResource));
        assert_eq!(Arn::parse("arn:aws:s3"), Err(ArnError::TooFewParts(3)));
        assert_eq!(Arn::parse("arn::s3:::b"), Err(ArnError::EmptyPartition));
        assert_eq!(Arn::parse("arn:aws::::b"), Err(ArnError::EmptyService));
        assert_eq!(Arn::parse(""), Err(ArnError::MissingPrefix));
    }

    #[test]
    fn account_ids() {
        assert!(is_account_id("123456789012"));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901a"));
    }
}
