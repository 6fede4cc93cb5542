//! The AWS SigV4 test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
//! service "service"): each request below is signed and must produce the published signature,
//! and the verifier must accept it and refuse changed copies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_sigv4::{
    EMPTY_SHA256, Request, SigV4Error, amz_date_to_unix, hex_sha256, parse_authorization, sign, verify,
};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const DATE: &str = "20150830T123600Z";
const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

/// (test-suite case, request line, extra headers besides Host and X-Amz-Date, signature)
type Case = (&'static str, &'static str, Vec<(&'static str, String)>, &'static str);

fn cases() -> Vec<Case> {
    let plain = Vec::new;
    vec![
        ("get-vanilla", "GET /", plain(), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        (
            "get-vanilla-empty-query-key",
            "GET /?Param1=value1",
            plain(),
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        ),
        (
            "get-vanilla-query-order-key",
            "GET /?Param1=value2&Param1=Value1",
            plain(),
            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        ),
        (
            "get-vanilla-query-order-key-case",
            "GET /?Param2=value2&Param1=value1",
            plain(),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "get-vanilla-query-order-value",
            "GET /?Param1=value2&Param1=value1",
            plain(),
            "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
        ),
        (
            "get-vanilla-query-unreserved",
            "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            plain(),
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        ),
        (
            "get-unreserved",
            "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            plain(),
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        ),
        (
            "get-header-key-duplicate",
            "GET /",
            vec![("My-Header1", "value2".into()), ("My-Header1", "value2".into()), ("My-Header1", "value1".into())],
            "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
        ),
        (
            "get-header-value-order",
            "GET /",
            vec![
                ("My-Header1", "value4".into()),
                ("My-Header1", "value1".into()),
                ("My-Header1", "value3".into()),
                ("My-Header1", "value2".into()),
            ],
            "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
        ),
        (
            "get-header-value-trim",
            "GET /",
            vec![("My-Header1", " value1".into()), ("My-Header2", " \"a   b   c\"".into())],
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        ),
        ("post-vanilla", "POST /", plain(), "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        (
            "post-vanilla-query",
            "POST /?Param1=value1",
            plain(),
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        ),
        (
            "post-header-key-sort",
            "POST /",
            vec![("My-Header1", "value1".into())],
            "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
        ),
        (
            "post-header-value-case",
            "POST /",
            vec![("My-Header1", "VALUE1".into())],
            "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
        ),
        (
            "post-sts-header-before",
            "POST /",
            vec![("X-Amz-Security-Token", TOKEN.into())],
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        ),
        (
            "normalize-path/get-relative",
            "GET /example/..",
            plain(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "normalize-path/get-relative-relative",
            "GET /example1/example2/../..",
            plain(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "normalize-path/get-slash",
            "GET //",
            plain(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "normalize-path/get-slash-dot-slash",
            "GET /./",
            plain(),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "normalize-path/get-slash-pointless-dot",
            "GET /./example",
            plain(),
            "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        ),
        (
            "normalize-path/get-slashes",
            "GET //example//",
            plain(),
            "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        ),
        (
            "normalize-path/get-space",
            "GET /example space/",
            plain(),
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        ),
    ]
}

fn headers_of(extra: &[(&str, String)]) -> Vec<(String, String)> {
    let mut headers =
        vec![("Host".to_string(), "example.amazonaws.com".to_string()), ("X-Amz-Date".to_string(), DATE.to_string())];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.clone())));
    headers
}

fn signed_header_names(headers: &[(String, String)]) -> Vec<String> {
    headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect()
}

fn split(line: &str) -> (&str, &str, &str) {
    let (method, target) = line.split_once(' ').unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (method, path, query)
}

#[test]
fn signs_every_test_suite_request_as_published() {
    for (name, line, extra, expected) in cases() {
        let (method, path, query) = split(line);
        let headers = headers_of(&extra);
        let request = Request { method, path, query, headers: &headers, body_sha256: EMPTY_SHA256 };
        let authorization =
            sign(&request, &signed_header_names(&headers), KEY_ID, SECRET, DATE, "us-east-1", "service").unwrap();
        let signature = authorization.rsplit_once("Signature=").unwrap().1;
        assert_eq!(signature, expected, "{name}");
    }
}

fn now() -> i64 {
    amz_date_to_unix(DATE).unwrap()
}

fn secret(id: &str) -> Option<String> {
    (id == KEY_ID).then(|| SECRET.to_string())
}

#[test]
fn verifies_the_test_suite_and_refuses_changes() {
    for (name, line, extra, _) in cases() {
        let (method, path, query) = split(line);
        let unsigned = headers_of(&extra);
        let request = Request { method, path, query, headers: &unsigned, body_sha256: EMPTY_SHA256 };
        let authorization =
            sign(&request, &signed_header_names(&unsigned), KEY_ID, SECRET, DATE, "us-east-1", "service").unwrap();
        let mut headers = unsigned.clone();
        headers.push(("Authorization".into(), authorization));
        let signed = Request { headers: &headers, ..request.clone() };
        let verified = verify(&signed, secret, "service", "us-east-1", now()).unwrap();
        assert_eq!(verified.access_key_id, KEY_ID, "{name}");

        let other_method = Request { method: if method == "GET" { "DELETE" } else { "GET" }, ..signed.clone() };
        assert_eq!(
            verify(&other_method, secret, "service", "us-east-1", now()).unwrap_err(),
            SigV4Error::Mismatch,
            "{name}"
        );
        let other_body = Request { body_sha256: &hex_sha256(b"x"), ..signed.clone() };
        assert_eq!(
            verify(&other_body, secret, "service", "us-east-1", now()).unwrap_err(),
            SigV4Error::Mismatch,
            "{name}"
        );
    }
}

fn signed_vanilla() -> Vec<(String, String)> {
    let unsigned = headers_of(&[]);
    let request = Request { method: "GET", path: "/", query: "", headers: &unsigned, body_sha256: EMPTY_SHA256 };
    let authorization =
        sign(&request, &signed_header_names(&unsigned), KEY_ID, SECRET, DATE, "us-east-1", "service").unwrap();
    let mut headers = unsigned.clone();
    headers.push(("Authorization".into(), authorization));
    headers
}

#[test]
fn verification_failures_are_specific() {
    let headers = signed_vanilla();
    let request = Request { method: "GET", path: "/", query: "", headers: &headers, body_sha256: EMPTY_SHA256 };
    let wrong_secret = |_: &str| Some("not the secret".to_string());
    assert_eq!(verify(&request, wrong_secret, "service", "us-east-1", now()).unwrap_err(), SigV4Error::Mismatch);
    assert_eq!(
        verify(&request, |_| None, "service", "us-east-1", now()).unwrap_err(),
        SigV4Error::UnknownAccessKey(KEY_ID.into())
    );
    assert!(matches!(
        verify(&request, secret, "connect", "us-east-1", now()).unwrap_err(),
        SigV4Error::WrongScope { .. }
    ));
    assert!(matches!(
        verify(&request, secret, "service", "eu-west-1", now()).unwrap_err(),
        SigV4Error::WrongScope { .. }
    ));
    // Fifteen minutes of skew are tolerated, sixteen are not, in both directions.
    assert!(verify(&request, secret, "service", "us-east-1", now() + 15 * 60).is_ok());
    assert!(matches!(
        verify(&request, secret, "service", "us-east-1", now() + 16 * 60).unwrap_err(),
        SigV4Error::Expired { .. }
    ));
    assert!(matches!(
        verify(&request, secret, "service", "us-east-1", now() - 16 * 60).unwrap_err(),
        SigV4Error::Expired { .. }
    ));

    let unsigned = headers_of(&[]);
    let request = Request { headers: &unsigned, ..request };
    assert_eq!(verify(&request, secret, "service", "us-east-1", now()).unwrap_err(), SigV4Error::Missing);
}

#[test]
fn malformed_authorization_headers() {
    for bad in [
        "AWS4-HMAC-SHA1 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=a/2015/r/s/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, SignedHeaders=host, Signature=zz",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/other, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=a/20150830/r/s/aws4_request, Credential=b, SignedHeaders=host, Signature=00",
    ] {
        assert!(matches!(parse_authorization(bad), Err(SigV4Error::Incomplete(_))), "{bad}");
    }
    assert_eq!(amz_date_to_unix("20150830T123600Z"), Some(1_440_938_160));
    assert_eq!(amz_date_to_unix("20000229T000000Z"), Some(951_782_400));
    assert_eq!(amz_date_to_unix("2015-08-30"), None);
}
