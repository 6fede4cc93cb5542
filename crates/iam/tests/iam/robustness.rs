//! Parsing and evaluation must never panic, whatever the input.

use crossfed_iam::{Policy, RequestContext, RequestPrincipal, evaluate};

const SEED_POLICY: &str = r#"{"Version":"2012-10-17","Id":"x","Statement":[
 {"Sid":"A","Effect":"Allow","Action":["s3:Get*","connect:*"],"Resource":"arn:aws:s3:::b/${aws:username, 'd'}/${*}?",
  "Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*","${saml:sub}"]},
   "IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
   "ArnLike":{"aws:SourceArn":"arn:aws:sns:*:1:${aws:userid}"},"NumericEquals":{"s3:max-keys":[1,2.5]},
   "Bool":{"aws:SecureTransport":true},"BinaryEquals":{"k:b":"TWE="},"Null":{"aws:TokenIssueTime":"false"}}},
 {"Effect":"Deny","NotPrincipal":{"AWS":["123456789012"],"Federated":"arn:aws:iam::1:saml-provider/H"},
  "NotAction":"iam:*","NotResource":["*"]}]}"#;

/// A small deterministic generator, so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const ALPHABET: &[char] =
    &['{', '}', '[', ']', '"', ':', ',', '$', '*', '?', '/', '\'', ' ', '\\', '0', '9', 'a', 'Z', '-', '.', 'é', '🦀'];

#[test]
fn mutated_policies_never_panic() {
    let seed: Vec<char> = SEED_POLICY.chars().collect();
    assert!(Policy::parse(SEED_POLICY).is_ok(), "{:?}", Policy::parse(SEED_POLICY));
    let ctx = RequestContext::new("s3:GetObject", "arn:aws:s3:::b/d/*?")
        .with_values("aws:TagKeys", ["a1", "*"])
        .with_key("aws:SourceIp", "10.1.2.3")
        .with_key("aws:CurrentTime", "2025-01-01")
        .with_key("aws:SourceArn", "arn:aws:sns:us-east-1:1:x")
        .with_key("s3:max-keys", 1)
        .with_key("aws:SecureTransport", true)
        .with_key("k:b", "TWE=")
        .with_key("aws:TokenIssueTime", "now")
        .with_principal(RequestPrincipal::aws("arn:aws:iam::123456789012:user/u"));
    let mut rng = Lcg(42);
    let mut parsed = 0;
    for _ in 0..4000 {
        let mut text = seed.clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(text.len() + 1);
            match rng.below(3) {
                0 if at < text.len() => {
                    text.remove(at);
                }
                1 if at < text.len() => text[at] = ALPHABET[rng.below(ALPHABET.len())],
                _ => text.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            }
        }
        let text: String = text.into_iter().collect();
        if let Ok(policy) = Policy::parse(&text) {
            parsed += 1;
            let _ = evaluate(&[&policy], &ctx);
        }
    }
    assert!(parsed > 0, "no mutation parsed; the test exercises nothing past JSON");
}

#[test]
fn hostile_inputs_never_panic() {
    let deep = "[".repeat(10_000);
    let many_stars = format!(r#"{{"Statement":{{"Effect":"Allow","Action":"{}","Resource":"*"}}}}"#, "*a".repeat(2000));
    let inputs = [
        "",
        "null",
        "\"\"",
        deep.as_str(),
        many_stars.as_str(),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${${${"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${a:b, '"}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateEquals":{"a:b":"-99999999999999999999"}}}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"a:b":1e400}}}}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"a:b":"::/255"}}}}"#,
    ];
    for input in inputs {
        if let Ok(policy) = Policy::parse(input) {
            let ctx = RequestContext::new("a:".to_owned() + &"a".repeat(2001), "x").with_key("a:b", f64::NAN);
            let _ = policy.evaluate(&ctx);
        }
    }
}
