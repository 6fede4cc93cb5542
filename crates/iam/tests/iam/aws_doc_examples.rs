//! Decisions for examples from the AWS IAM User Guide.
//!
//! Each case cites the guide section its policy comes from (placeholders such
//! as `account-id` are filled with example values) and asserts the exact
//! decision, including which statement decided it.

use crossfed_iam::{Decision, Policy, PolicyError, RequestContext, RequestPrincipal, evaluate, evaluate_trust};

/// The decision a case expects.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Allowed by the statement at (policy index, statement index).
    Allow(usize, usize),
    /// Explicitly denied by the statement at (policy index, statement index).
    Deny(usize, usize),
    /// Nothing matched.
    Implicit,
}

struct Case {
    /// Guide section and what the case checks.
    name: &'static str,
    policies: Vec<&'static str>,
    ctx: RequestContext,
    /// Evaluate with `evaluate_trust` (single trust policy) instead of `evaluate`.
    trust: bool,
    expect: Expect,
}

fn case(name: &'static str, policies: Vec<&'static str>, ctx: RequestContext, expect: Expect) -> Case {
    Case { name, policies, ctx, trust: false, expect }
}

fn req(action: &str, resource: &str) -> RequestContext {
    RequestContext::new(action, resource)
}

// --- Policies --------------------------------------------------------------

// "IAM JSON policy elements: Condition operators" > String condition operators.
const STRING_PRINCIPAL_TAG: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "iam:*AccessKey*",
    "Resource": "arn:aws:iam::111122223333:user/*",
    "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}
  }
}"#;

// "Condition operators" > String condition operators (home directory with
// StringLike and a policy variable).
const S3_HOME_DIRECTORY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "arn:aws:s3:::*"},
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::BUCKET-NAME",
     "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}}},
    {"Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::BUCKET-NAME/home/${aws:username}", "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]}
  ]
}"#;

// "Condition operators" > Numeric condition operators.
const NUMERIC_MAX_KEYS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": "arn:aws:s3:::example_bucket",
    "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}
  }
}"#;

// "Condition operators" > Date condition operators.
const DATE_TOKEN_ISSUE_TIME: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "iam:*AccessKey*",
    "Resource": "arn:aws:iam::111122223333:user/*",
    "Condition": {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
  }
}"#;

// "Condition operators" > Boolean condition operators (deny without TLS),
// combined with a broad allow as the guide says it must be.
const BOOL_DENY_INSECURE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "BooleanExample",
    "Action": "s3:*",
    "Effect": "Deny",
    "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}"#;
const ALLOW_S3: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "AllowS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#;
const ALLOW_ALL: &str =
    r#"{"Version": "2012-10-17", "Statement": {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"}}"#;

// "Condition operators" > Binary condition operators.
const BINARY_EQUALS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "example:Do", "Resource": "*",
    "Condition": {"BinaryEquals": {"example:key": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}}
}"#;

// "Condition operators" > IP address condition operators (IPv4 only).
const IP_V4: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "iam:*AccessKey*",
    "Resource": "arn:aws:iam::111122223333:user/*",
    "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
  }
}"#;

// "Condition operators" > IP address condition operators (IPv4 and IPv6 mixed).
const IP_MIXED: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Action": "someservice:*",
    "Resource": "*",
    "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}}
  }
}"#;

// "Condition operators" > Amazon Resource Name (ARN) condition operators
// (SQS queue policy letting SNS send messages from one topic).
const ARN_EQUALS_SQS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Allow",
    "Principal": {"AWS": "123456789012"},
    "Action": "SQS:SendMessage",
    "Resource": "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID",
    "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}}
  }
}"#;

// "Condition operators" > ARN condition operators: the same pattern with
// StringLike (matches across colons) and ArnLike (per component).
const STRING_LIKE_FINANCE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "someservice:Read", "Resource": "*",
    "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}}
}"#;
const ARN_LIKE_FINANCE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "someservice:Read", "Resource": "*",
    "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:someservice:*:111122223333:finance/*"}}}
}"#;
const FINANCE_ACROSS_COLONS: &str =
    "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt";

// "Condition operators" > ...IfExists condition operators.
const IF_EXISTS_RUN_INSTANCES: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "RunInstance", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
     "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}},
    {"Sid": "DescribeActions", "Effect": "Allow",
     "Action": ["ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeVpcs",
                "ec2:DescribeKeyPairs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
     "Resource": "*"}
  ]
}"#;
const WITHOUT_IF_EXISTS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Sid": "THISPOLICYDOESNOTWORK", "Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
    "Condition": {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}}
}"#;

// "Condition operators" > Condition operator to check existence of condition keys.
const NULL_TOKEN_ISSUE_TIME: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Action": "ec2:*", "Effect": "Allow", "Resource": "*",
    "Condition": {"Null": {"aws:TokenIssueTime": "true"}}}
}"#;

// "IAM JSON policy elements: NotAction" > NotAction with Allow.
const NOT_ACTION_ALLOW_ALL_BUT_IAM: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
}"#;
const NOT_ACTION_ALLOW_S3_BUT_DELETE_BUCKET: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"}
}"#;

// "NotAction" > NotAction with Deny (deny everything but IAM without MFA).
const NOT_ACTION_DENY_WITHOUT_MFA: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "DenyAllUsersNotUsingMFA",
    "Effect": "Deny",
    "NotAction": "iam:*",
    "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
  }]
}"#;

// "IAM JSON policy elements: NotResource" (HRPayroll).
const NOT_RESOURCE_HR_PAYROLL: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {
    "Effect": "Deny",
    "Action": "s3:*",
    "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]
  }
}"#;

// "Creating a condition with multiple keys or values" > ForAllValues example.
const FOR_ALL_VALUES_ATTRIBUTES: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": "dynamodb:GetItem",
    "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Thread",
    "Condition": {"ForAllValues:StringLike": {"dynamodb:requestedAttributes": ["PostDateTime", "Message", "Tags"]}}
  }]
}"#;

// "Creating a condition with multiple keys or values" > ForAnyValue example.
const FOR_ANY_VALUE_DENY_PUT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "Action": "dynamodb:PutItem",
    "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Thread",
    "Condition": {"ForAnyValue:StringLike": {"dynamodb:requestedAttributes": ["ID", "PostDateTime"]}}
  }]
}"#;
const ALLOW_DYNAMODB: &str = r#"{"Version": "2012-10-17", "Statement": {"Sid": "AllowDynamo", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}}"#;

// "Policy variables" > Tags as policy variables / Condition element
// (iam:ResourceTag/costCenter listing two values: OR).
const COST_CENTER_VALUES: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["iam:*user*"], "Resource": "*",
    "Condition": {"StringLike": {"iam:ResourceTag/costCenter": ["12345", "67890"]}}}]
}"#;

// "Policy variables" > Condition element (SNS topic policy: two operators,
// ANDed, one using a variable).
const SNS_ENDPOINT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Principal": {"AWS": "999999999999"},
    "Effect": "Allow",
    "Action": "sns:*",
    "Condition": {
      "StringLike": {"sns:endpoint": "https://example.com/${aws:username}/"},
      "StringEquals": {"sns:Protocol": "https"}
    }
  }]
}"#;

// "Policy variables" > Resource element (per-user SQS queues).
const SQS_PER_USER_QUEUE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ListForConsole", "Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"},
    {"Sid": "AllQueueActions", "Effect": "Allow", "Action": "sqs:*",
     "Resource": "arn:aws:sqs:us-east-2:*:${aws:username}-queue"}
  ]
}"#;

// "Policy variables" > Introduction: the same policy without Version treats
// ${aws:username} as literal text.
const NO_VERSION_LITERAL_VARIABLE: &str = r#"{
  "Statement": [{"Action": ["s3:GetObject"], "Effect": "Allow",
    "Resource": ["arn:aws:s3:::mybucket/${aws:username}/*"]}]
}"#;

// "Policy variables" > Special characters (${*}, ${?}, ${$}).
const SPECIAL_CHARACTERS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::mybucket/price${$}${*}${?}"}
}"#;

// "Policy variables" > Specifying default values.
const DEFAULT_VALUE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
    "Condition": {"StringEquals": {"aws:Resource": "arn:aws:s3:::/bucket/${aws:userid, 'anonymous'}"}}}
}"#;

// "AWS: Denies access to AWS based on the requested Region": a negated
// operator with several values (NOR) under NotAction.
const DENY_OUTSIDE_EU: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "DenyAllOutsideEU",
    "Effect": "Deny",
    "NotAction": ["cloudfront:*", "iam:*", "route53:*", "support:*"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1"]}}
  }]
}"#;

// "Condition operators" (Important note): a negated operator is true when
// the key is missing.
const DENY_UNLESS_TEAM_TAG: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Sid": "DenyOutsiders", "Effect": "Deny", "Action": "*", "Resource": "*",
    "Condition": {"StringNotLike": {"aws:PrincipalTag/team": "platform*"}}}
}"#;

// "Policy variables" > Information available in all requests: key names are
// case-insensitive ("aws:CurrentTime is equivalent to AWS:currenttime"), and
// "Condition operators" > Date (epoch time with aws:EpochTime).
const DATE_WINDOW: &str = r#"{
  "Version": "2012-10-17",
  "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
    "Condition": {
      "DateGreaterThan": {"AWS:currenttime": "2020-04-01T00:00:00Z"},
      "DateLessThan": {"aws:EpochTime": "1609459200"}
    }}
}"#;

// "Creating a role for SAML 2.0 federation": the role trust policy.
const SAML_TRUST: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/Hub"},
    "Action": "sts:AssumeRoleWithSAML",
    "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}
  }]
}"#;

// "IAM JSON policy elements: Principal" > AWS account principals: an
// account ID stands for the account (arn:aws:iam::ACCOUNT:root).
const TRUST_ACCOUNT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]
}"#;

fn cases() -> Vec<Case> {
    use Expect::*;
    let saml_ok = req("sts:AssumeRoleWithSAML", "arn:aws:iam::123456789012:role/Agent")
        .with_principal(RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Hub"))
        .with_key("saml:aud", "https://signin.aws.amazon.com/saml");
    vec![
        // Condition operators > String: tag present and equal.
        case(
            "string: PrincipalTag matches",
            vec![STRING_PRINCIPAL_TAG],
            req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob")
                .with_key("aws:PrincipalTag/job-category", "iamuser-admin"),
            Allow(0, 0),
        ),
        // Condition operators > String: "If a user without the tag attempts ... the condition returns false".
        case(
            "string: missing tag is false",
            vec![STRING_PRINCIPAL_TAG],
            req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob"),
            Implicit,
        ),
        // Condition operators > String: values are case-sensitive.
        case(
            "string: value case differs",
            vec![STRING_PRINCIPAL_TAG],
            req("iam:UpdateAccessKey", "arn:aws:iam::111122223333:user/bob")
                .with_key("aws:PrincipalTag/job-category", "IAMUSER-ADMIN"),
            Implicit,
        ),
        // Condition operators > String: StringLike with ${aws:username} in s3:prefix.
        case(
            "variables: own home prefix listed",
            vec![S3_HOME_DIRECTORY],
            req("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME")
                .with_key("aws:username", "David")
                .with_key("s3:prefix", "home/David/"),
            Allow(0, 1),
        ),
        // Same policy: another user's prefix does not match.
        case(
            "variables: other user's prefix",
            vec![S3_HOME_DIRECTORY],
            req("s3:ListBucket", "arn:aws:s3:::BUCKET-NAME")
                .with_key("aws:username", "David")
                .with_key("s3:prefix", "home/Adele/"),
            Implicit,
        ),
        // Same policy: ${aws:username} in Resource with a trailing wildcard.
        case(
            "variables: own home object",
            vec![S3_HOME_DIRECTORY],
            req("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt").with_key("aws:username", "David"),
            Allow(0, 2),
        ),
        // Policy variables: a variable whose key is absent matches no resource.
        case(
            "variables: missing username matches nothing",
            vec![S3_HOME_DIRECTORY],
            req("s3:GetObject", "arn:aws:s3:::BUCKET-NAME/home/David/notes.txt"),
            Implicit,
        ),
        // Condition operators > Numeric: up to 10 keys.
        case(
            "numeric: 10 <= 10",
            vec![NUMERIC_MAX_KEYS],
            req("s3:ListBucket", "arn:aws:s3:::example_bucket").with_key("s3:max-keys", "10"),
            Allow(0, 0),
        ),
        case(
            "numeric: 11 > 10",
            vec![NUMERIC_MAX_KEYS],
            req("s3:ListBucket", "arn:aws:s3:::example_bucket").with_key("s3:max-keys", 11),
            Implicit,
        ),
        // Condition operators > Date: credentials issued in 2020.
        case(
            "date: issued after the date",
            vec![DATE_TOKEN_ISSUE_TIME],
            req("iam:ListAccessKeys", "arn:aws:iam::111122223333:user/bob")
                .with_key("aws:TokenIssueTime", "2020-06-01T12:00:00Z"),
            Allow(0, 0),
        ),
        case(
            "date: issued before the date",
            vec![DATE_TOKEN_ISSUE_TIME],
            req("iam:ListAccessKeys", "arn:aws:iam::111122223333:user/bob")
                .with_key("aws:TokenIssueTime", "2019-12-31T23:59:59Z"),
            Implicit,
        ),
        // Date: "if an IAM user attempts to view or edit an access key, the request is denied" (no token).
        case(
            "date: no temporary credentials",
            vec![DATE_TOKEN_ISSUE_TIME],
            req("iam:ListAccessKeys", "arn:aws:iam::111122223333:user/bob"),
            Implicit,
        ),
        // Key names are case-insensitive; epoch and ISO dates mix.
        case(
            "date: window with case-insensitive keys",
            vec![DATE_WINDOW],
            req("s3:GetObject", "arn:aws:s3:::b/k")
                .with_key("aws:CurrentTime", "2020-07-01T00:00:00Z")
                .with_key("aws:epochtime", 1_593_561_600),
            Allow(0, 0),
        ),
        case(
            "date: after the window",
            vec![DATE_WINDOW],
            req("s3:GetObject", "arn:aws:s3:::b/k")
                .with_key("aws:CurrentTime", "2021-02-01T00:00:00Z")
                .with_key("aws:EpochTime", 1_612_137_600),
            Implicit,
        ),
        // Condition operators > Boolean: plain HTTP is denied even though another policy allows s3:*.
        case(
            "bool: insecure transport denied",
            vec![ALLOW_S3, BOOL_DENY_INSECURE],
            req("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k").with_key("aws:SecureTransport", false),
            Deny(1, 0),
        ),
        case(
            "bool: TLS allowed",
            vec![ALLOW_S3, BOOL_DENY_INSECURE],
            req("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k").with_key("aws:SecureTransport", true),
            Allow(0, 0),
        ),
        // Boolean: "This policy does not allow any actions" on its own.
        case(
            "bool: deny-only policy allows nothing",
            vec![BOOL_DENY_INSECURE],
            req("s3:GetObject", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k").with_key("aws:SecureTransport", true),
            Implicit,
        ),
        // Condition operators > Binary.
        case(
            "binary: equal bytes",
            vec![BINARY_EQUALS],
            req("example:Do", "arn:aws:example:::thing").with_key("example:key", "QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
            Allow(0, 0),
        ),
        case(
            "binary: different bytes",
            vec![BINARY_EQUALS],
            req("example:Do", "arn:aws:example:::thing").with_key("example:key", "QmluYXJ5"),
            Implicit,
        ),
        // Condition operators > IP address: 203.0.113.0 to 203.0.113.255.
        case(
            "ip: inside /24",
            vec![IP_V4],
            req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob").with_key("aws:SourceIp", "203.0.113.77"),
            Allow(0, 0),
        ),
        case(
            "ip: outside /24",
            vec![IP_V4],
            req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob").with_key("aws:SourceIp", "198.51.100.7"),
            Implicit,
        ),
        // IP: "aws:SourceIp ... except when the requester uses a VPC endpoint ... the condition returns false".
        case(
            "ip: key absent (VPC endpoint)",
            vec![IP_V4],
            req("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/bob"),
            Implicit,
        ),
        // IP: IPv4 and IPv6 ranges mixed.
        case(
            "ip: IPv6 inside /64",
            vec![IP_MIXED],
            req("someservice:Get", "arn:aws:someservice:::x").with_key("aws:SourceIp", "2001:db8:1234:5678::42"),
            Allow(0, 0),
        ),
        case(
            "ip: IPv6 outside /64",
            vec![IP_MIXED],
            req("someservice:Get", "arn:aws:someservice:::x").with_key("aws:SourceIp", "2001:db8:1234:9999::42"),
            Implicit,
        ),
        // Condition operators > ARN: SNS topic sending to the SQS queue.
        case(
            "arn: ArnEquals source topic",
            vec![ARN_EQUALS_SQS],
            req("sqs:SendMessage", "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:role/sns-delivery"))
                .with_key("aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:TOPIC-ID"),
            Allow(0, 0),
        ),
        // ARN: "If an IAM user attempts to perform this operation directly, the condition returns false".
        case(
            "arn: no SourceArn",
            vec![ARN_EQUALS_SQS],
            req("sqs:SendMessage", "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:user/bob")),
            Implicit,
        ),
        // ARN: "With a StringLike condition, the match succeeds."
        case(
            "arn: StringLike spans colons",
            vec![STRING_LIKE_FINANCE],
            req("someservice:Read", "arn:aws:someservice:::x").with_key("aws:SourceArn", FINANCE_ACROSS_COLONS),
            Allow(0, 0),
        ),
        // ARN: "With an ArnLike condition ... the match fails."
        case(
            "arn: ArnLike matches per component",
            vec![ARN_LIKE_FINANCE],
            req("someservice:Read", "arn:aws:someservice:::x").with_key("aws:SourceArn", FINANCE_ACROSS_COLONS),
            Implicit,
        ),
        case(
            "arn: ArnLike component wildcard",
            vec![ARN_LIKE_FINANCE],
            req("someservice:Read", "arn:aws:someservice:::x")
                .with_key("aws:SourceArn", "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"),
            Allow(0, 0),
        ),
        // ...IfExists: resources without ec2:InstanceType are not blocked.
        case(
            "ifexists: key absent",
            vec![IF_EXISTS_RUN_INSTANCES],
            req("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-12345678"),
            Allow(0, 0),
        ),
        case(
            "ifexists: allowed type",
            vec![IF_EXISTS_RUN_INSTANCES],
            req("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*")
                .with_key("ec2:InstanceType", "t2.micro"),
            Allow(0, 0),
        ),
        case(
            "ifexists: other type",
            vec![IF_EXISTS_RUN_INSTANCES],
            req("ec2:RunInstances", "arn:aws:ec2:us-east-1:123456789012:instance/*")
                .with_key("ec2:InstanceType", "m5.large"),
            Implicit,
        ),
        // ...IfExists: "THISPOLICYDOESNOTWORK" fails for resources without the key.
        case(
            "ifexists: plain StringLike fails when absent",
            vec![WITHOUT_IF_EXISTS],
            req("ec2:RunInstances", "arn:aws:ec2:us-east-1::image/ami-12345678"),
            Implicit,
        ),
        // Null: no temporary credentials -> allowed.
        case("null: key absent", vec![NULL_TOKEN_ISSUE_TIME], req("ec2:DescribeInstances", "*"), Allow(0, 0)),
        case(
            "null: key present",
            vec![NULL_TOKEN_ISSUE_TIME],
            req("ec2:DescribeInstances", "*").with_key("aws:TokenIssueTime", "2020-01-01T00:00:00Z"),
            Implicit,
        ),
        // NotAction with Allow: everything except IAM.
        case(
            "notaction: non-IAM allowed",
            vec![NOT_ACTION_ALLOW_ALL_BUT_IAM],
            req("s3:GetObject", "arn:aws:s3:::b/k"),
            Allow(0, 0),
        ),
        case(
            "notaction: IAM not allowed",
            vec![NOT_ACTION_ALLOW_ALL_BUT_IAM],
            req("iam:CreateUser", "arn:aws:iam::123456789012:user/eve"),
            Implicit,
        ),
        // NotAction with Allow, scoped by Resource: every S3 action but DeleteBucket.
        case(
            "notaction: S3 read allowed",
            vec![NOT_ACTION_ALLOW_S3_BUT_DELETE_BUCKET],
            req("s3:GetObject", "arn:aws:s3:::bucket/key"),
            Allow(0, 0),
        ),
        case(
            "notaction: DeleteBucket excluded",
            vec![NOT_ACTION_ALLOW_S3_BUT_DELETE_BUCKET],
            req("s3:DeleteBucket", "arn:aws:s3:::bucket"),
            Implicit,
        ),
        // "This does not allow ... ListAllMyBuckets ... because that action requires the "*" resource".
        case(
            "notaction: resource scope still applies",
            vec![NOT_ACTION_ALLOW_S3_BUT_DELETE_BUCKET],
            req("s3:ListAllMyBuckets", "*"),
            Implicit,
        ),
        // NotAction with Deny: without MFA everything but IAM is denied.
        case(
            "notaction deny: no MFA",
            vec![ALLOW_ALL, NOT_ACTION_DENY_WITHOUT_MFA],
            req("ec2:RunInstances", "*").with_key("aws:MultiFactorAuthPresent", false),
            Deny(1, 0),
        ),
        // BoolIfExists: a missing MFA key also triggers the deny.
        case(
            "notaction deny: MFA key absent",
            vec![ALLOW_ALL, NOT_ACTION_DENY_WITHOUT_MFA],
            req("ec2:RunInstances", "*"),
            Deny(1, 0),
        ),
        case(
            "notaction deny: IAM exempt",
            vec![ALLOW_ALL, NOT_ACTION_DENY_WITHOUT_MFA],
            req("iam:ChangePassword", "*").with_key("aws:MultiFactorAuthPresent", false),
            Allow(0, 0),
        ),
        case(
            "notaction deny: with MFA",
            vec![ALLOW_ALL, NOT_ACTION_DENY_WITHOUT_MFA],
            req("ec2:RunInstances", "*").with_key("aws:MultiFactorAuthPresent", true),
            Allow(0, 0),
        ),
        // NotResource: only the Payroll folder escapes the deny.
        case(
            "notresource: payroll object",
            vec![ALLOW_S3, NOT_RESOURCE_HR_PAYROLL],
            req("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/march.csv"),
            Allow(0, 0),
        ),
        case(
            "notresource: other folder denied",
            vec![ALLOW_S3, NOT_RESOURCE_HR_PAYROLL],
            req("s3:GetObject", "arn:aws:s3:::HRBucket/Reviews/2020.pdf"),
            Deny(1, 0),
        ),
        case(
            "notresource: non-S3 action unaffected",
            vec![ALLOW_ALL, NOT_RESOURCE_HR_PAYROLL],
            req("ec2:RunInstances", "*"),
            Allow(0, 0),
        ),
        // Multiple values > ForAllValues: every requested attribute allowed.
        case(
            "forallvalues: all listed",
            vec![FOR_ALL_VALUES_ATTRIBUTES],
            req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread")
                .with_values("dynamodb:requestedAttributes", ["PostDateTime", "Message"]),
            Allow(0, 0),
        ),
        // ForAllValues: "There's no match for UserName, so the condition operator returns false".
        case(
            "forallvalues: one unlisted",
            vec![FOR_ALL_VALUES_ATTRIBUTES],
            req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread")
                .with_values("dynamodb:requestedAttributes", ["PostDateTime", "UserName"]),
            Implicit,
        ),
        // ForAllValues: "If the key values in the request resolve to an empty data set ... returns true".
        case(
            "forallvalues: empty set",
            vec![FOR_ALL_VALUES_ATTRIBUTES],
            req("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread")
                .with_values("dynamodb:requestedAttributes", Vec::<String>::new()),
            Allow(0, 0),
        ),
        // ForAnyValue: PostDateTime matches, so the deny applies.
        case(
            "foranyvalue: one listed -> deny",
            vec![ALLOW_DYNAMODB, FOR_ANY_VALUE_DENY_PUT],
            req("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread")
                .with_values("dynamodb:requestedAttributes", ["UserName", "Message", "PostDateTime"]),
            Deny(1, 0),
        ),
        // ForAnyValue: "None of the attributes in the request ... match ... The condition returns false".
        case(
            "foranyvalue: none listed",
            vec![ALLOW_DYNAMODB, FOR_ANY_VALUE_DENY_PUT],
            req("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread")
                .with_values("dynamodb:requestedAttributes", ["UserName"]),
            Allow(0, 0),
        ),
        // ForAnyValue on a missing key is false.
        case(
            "foranyvalue: key absent",
            vec![ALLOW_DYNAMODB, FOR_ANY_VALUE_DENY_PUT],
            req("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Thread"),
            Allow(0, 0),
        ),
        // Policy variables > Condition element: costCenter is 12345 OR 67890.
        case(
            "multiple values: second value matches",
            vec![COST_CENTER_VALUES],
            req("iam:GetUser", "arn:aws:iam::123456789012:user/bob").with_key("iam:ResourceTag/costCenter", "67890"),
            Allow(0, 0),
        ),
        case(
            "multiple values: none match",
            vec![COST_CENTER_VALUES],
            req("iam:GetUser", "arn:aws:iam::123456789012:user/bob").with_key("iam:ResourceTag/costCenter", "99999"),
            Implicit,
        ),
        // Policy variables > Condition element: both operators (AND) must hold.
        case(
            "variables: SNS endpoint for own name over https",
            vec![SNS_ENDPOINT],
            req("sns:Subscribe", "arn:aws:sns:us-east-1:999999999999:topic")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::999999999999:user/alice"))
                .with_key("aws:username", "alice")
                .with_key("sns:Endpoint", "https://example.com/alice/")
                .with_key("sns:Protocol", "https"),
            Allow(0, 0),
        ),
        case(
            "variables: SNS endpoint but http",
            vec![SNS_ENDPOINT],
            req("sns:Subscribe", "arn:aws:sns:us-east-1:999999999999:topic")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::999999999999:user/alice"))
                .with_key("aws:username", "alice")
                .with_key("sns:Endpoint", "https://example.com/alice/")
                .with_key("sns:Protocol", "http"),
            Implicit,
        ),
        // Principal "AWS": "999999999999" does not cover another account.
        case(
            "principal: other account",
            vec![SNS_ENDPOINT],
            req("sns:Subscribe", "arn:aws:sns:us-east-1:999999999999:topic")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::111122223333:user/alice"))
                .with_key("aws:username", "alice")
                .with_key("sns:Endpoint", "https://example.com/alice/")
                .with_key("sns:Protocol", "https"),
            Implicit,
        ),
        // Policy variables > Resource element: per-user queue names.
        case(
            "variables: own queue",
            vec![SQS_PER_USER_QUEUE],
            req("sqs:SendMessage", "arn:aws:sqs:us-east-2:123456789012:alice-queue").with_key("aws:username", "alice"),
            Allow(0, 1),
        ),
        case(
            "variables: someone else's queue",
            vec![SQS_PER_USER_QUEUE],
            req("sqs:SendMessage", "arn:aws:sqs:us-east-2:123456789012:bob-queue").with_key("aws:username", "alice"),
            Implicit,
        ),
        // Policy variables > Introduction: without Version, ${aws:username} is literal.
        case(
            "version: 2008 does not substitute",
            vec![NO_VERSION_LITERAL_VARIABLE],
            req("s3:GetObject", "arn:aws:s3:::mybucket/David/file").with_key("aws:username", "David"),
            Implicit,
        ),
        case(
            "version: 2008 matches the literal text",
            vec![NO_VERSION_LITERAL_VARIABLE],
            req("s3:GetObject", "arn:aws:s3:::mybucket/${aws:username}/file").with_key("aws:username", "David"),
            Allow(0, 0),
        ),
        // Policy variables > Special characters: escapes are literal characters.
        case(
            "escapes: literal $*?",
            vec![SPECIAL_CHARACTERS],
            req("s3:GetObject", "arn:aws:s3:::mybucket/price$*?"),
            Allow(0, 0),
        ),
        case(
            "escapes: ${*} is not a wildcard",
            vec![SPECIAL_CHARACTERS],
            req("s3:GetObject", "arn:aws:s3:::mybucket/price$everything!"),
            Implicit,
        ),
        // Policy variables > Specifying default values: anonymous callers.
        case(
            "default: anonymous",
            vec![DEFAULT_VALUE],
            req("s3:GetObject", "arn:aws:s3:::b/k").with_key("aws:Resource", "arn:aws:s3:::/bucket/anonymous"),
            Allow(0, 0),
        ),
        case(
            "default: real userid replaces default",
            vec![DEFAULT_VALUE],
            req("s3:GetObject", "arn:aws:s3:::b/k")
                .with_key("aws:userid", "AIDAEXAMPLE")
                .with_key("aws:Resource", "arn:aws:s3:::/bucket/anonymous"),
            Implicit,
        ),
        // Region deny: StringNotEquals with several values is a NOR.
        case(
            "negated: region outside list denied",
            vec![ALLOW_ALL, DENY_OUTSIDE_EU],
            req("ec2:RunInstances", "*").with_key("aws:RequestedRegion", "us-east-1"),
            Deny(1, 0),
        ),
        case(
            "negated: listed region allowed",
            vec![ALLOW_ALL, DENY_OUTSIDE_EU],
            req("ec2:RunInstances", "*").with_key("aws:RequestedRegion", "eu-west-1"),
            Allow(0, 0),
        ),
        case(
            "negated: global service exempt",
            vec![ALLOW_ALL, DENY_OUTSIDE_EU],
            req("iam:ListRoles", "*").with_key("aws:RequestedRegion", "us-east-1"),
            Allow(0, 0),
        ),
        // Condition operators (Important): a negated operator with the key absent is true.
        case(
            "negated: missing key is true",
            vec![ALLOW_ALL, DENY_UNLESS_TEAM_TAG],
            req("s3:GetObject", "arn:aws:s3:::b/k"),
            Deny(1, 0),
        ),
        case(
            "negated: matching tag escapes deny",
            vec![ALLOW_ALL, DENY_UNLESS_TEAM_TAG],
            req("s3:GetObject", "arn:aws:s3:::b/k").with_key("aws:PrincipalTag/team", "platform-eng"),
            Allow(0, 0),
        ),
        // Policy evaluation logic: no statement matches -> implicit deny.
        case("evaluation: default deny", vec![ALLOW_S3], req("ec2:RunInstances", "*"), Implicit),
        // SAML 2.0 federation trust policy.
        Case {
            name: "trust: SAML provider and audience",
            policies: vec![SAML_TRUST],
            ctx: saml_ok.clone(),
            trust: true,
            expect: Allow(0, 0),
        },
        Case {
            name: "trust: wrong SAML provider",
            policies: vec![SAML_TRUST],
            ctx: saml_ok
                .clone()
                .with_principal(RequestPrincipal::federated("arn:aws:iam::123456789012:saml-provider/Other")),
            trust: true,
            expect: Implicit,
        },
        Case {
            name: "trust: wrong SAML audience",
            policies: vec![SAML_TRUST],
            ctx: saml_ok.with_key("SAML:aud", "https://evil.example/saml"),
            trust: true,
            expect: Implicit,
        },
        // Principal element: account root ARN trusts principals of that account.
        Case {
            name: "trust: same-account role",
            policies: vec![TRUST_ACCOUNT],
            ctx: req("sts:AssumeRole", "arn:aws:iam::123456789012:role/Target")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:role/Caller")),
            trust: true,
            expect: Allow(0, 0),
        },
        Case {
            name: "trust: other account",
            policies: vec![TRUST_ACCOUNT],
            ctx: req("sts:AssumeRole", "arn:aws:iam::123456789012:role/Target")
                .with_principal(RequestPrincipal::aws("arn:aws:iam::999999999999:role/Caller")),
            trust: true,
            expect: Implicit,
        },
    ]
}

#[test]
fn aws_documentation_examples() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let policies: Vec<Policy> = c
            .policies
            .iter()
            .map(|text| Policy::parse(text).unwrap_or_else(|e| panic!("{}: policy does not parse: {e}", c.name)))
            .collect();
        let refs: Vec<&Policy> = policies.iter().collect();
        let decision = if c.trust { evaluate_trust(refs[0], &c.ctx) } else { evaluate(&refs, &c.ctx) };
        let ok = match (c.expect, &decision) {
            (Expect::Allow(p, s), Decision::Allow { policy_index, statement_index, .. })
            | (Expect::Deny(p, s), Decision::ExplicitDeny { policy_index, statement_index, .. }) => {
                (p, s) == (*policy_index, *statement_index)
            }
            (Expect::Implicit, Decision::ImplicitDeny) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!("{}: expected {:?}, got {decision}", c.name, c.expect));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn deciding_statement_sid_is_reported() {
    let policies = [Policy::parse(ALLOW_ALL).unwrap(), Policy::parse(DENY_OUTSIDE_EU).unwrap()];
    let ctx = req("ec2:RunInstances", "*").with_key("aws:RequestedRegion", "ap-south-1");
    let decision = evaluate(&[&policies[0], &policies[1]], &ctx);
    assert_eq!(decision.sid(), Some("DenyAllOutsideEU"));
    assert_eq!(decision.to_string(), "explicitly denied by statement 0 (Sid \"DenyAllOutsideEU\") of policy 1");
}

/// The crossfed use case: an Amazon Connect federation token only for the
/// caller's own Connect user, identified by `aws:userid`.
#[test]
fn connect_get_federation_token_for_own_user() {
    let policy = Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Sid":"Statement1","Effect":"Allow","Action":"connect:GetFederationToken","Resource":["arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/user/${aws:userid}"]}]}"#).unwrap();
    let resource = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/user/AROAEXAMPLEID123:alice@example.com";
    let own = req("connect:GetFederationToken", resource).with_key("aws:userid", "AROAEXAMPLEID123:alice@example.com");
    assert_eq!(
        evaluate(&[&policy], &own),
        Decision::Allow { policy_index: 0, statement_index: 0, sid: Some("Statement1".into()) }
    );
    let other = req("connect:GetFederationToken", resource).with_key("aws:userid", "AROAEXAMPLEID123:bob@example.com");
    assert_eq!(evaluate(&[&policy], &other), Decision::ImplicitDeny);
}

/// Parse errors name where the problem is and what it is.
#[test]
fn parse_errors_name_path_and_problem() {
    let cases: [(&str, &str); 7] = [
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}]}"#,
            "Statement[1].Condition.StringEqualz: unknown condition operator \"StringEqualz\" (did you mean \"StringEquals\"?)",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Action":"s3:*","Resource":"*"}]}"#,
            "Statement[0].Effect: invalid effect \"Permit\"; it must be exactly \"Allow\" or \"Deny\"",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            "Statement[0]: missing \"Action\"; every statement needs exactly one of \"Action\" or \"NotAction\"",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}]}"#,
            "Statement[0]: \"Action\" and \"NotAction\" cannot both be present; keep exactly one of them",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::ok","arn:aws:s3:bucket"]}]}"#,
            "Statement[0].Resource[1]: invalid ARN \"arn:aws:s3:bucket\": it has 4 colon-separated parts but an ARN needs 6",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3GetObject","Resource":"*"}]}"#,
            "Statement[0].Action: invalid action \"s3GetObject\": it has no \":\" between service and action",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Principle":"*"}]}"#,
            "Statement[0]: unknown element \"Principle\" (did you mean \"Principal\"?)",
        ),
    ];
    for (text, expected) in cases {
        let message = Policy::parse(text).unwrap_err().to_string();
        assert!(message.starts_with(expected), "got: {message}\nwant: {expected}");
    }

    let version = Policy::parse(r#"{"Version":"2012-10-07","Statement":[]}"#).unwrap_err();
    assert_eq!(version, PolicyError::InvalidVersion { value: "2012-10-07".into() });

    let json =
        Policy::parse("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\",}\n  ]\n}")
            .unwrap_err();
    assert!(matches!(json, PolicyError::Json { line: 4, .. }), "{json:?}");
    assert!(json.to_string().starts_with("policy is not valid JSON: "), "{json}");
}
