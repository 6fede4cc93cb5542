//! Exclusive canonicalization against the raw RSA-2048 limit, measured in the same run.
//!
//! `cargo bench -p crossfed-xml --bench c14n` prints criterion's statistics, then a summary:
//! canonicalization of the Assertion of a ~10 KB signed IdP response (parsed once), the same
//! with the enveloped Signature left out (what verification digests), and parse + c14n, each
//! as a ratio to the raw aws-lc-rs RSA-2048 verify and sign rates. Set `CROSSFED_BENCH_QUICK=1`
//! for a short summary window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::Criterion;
use crossfed_testkit::bench::{RawRsa, rate, summary_window};
use crossfed_xml::{C14nOptions, canonicalize, parse};

const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Base64-looking filler of `len` characters, standing in for a digest, signature or certificate:
/// canonicalization only copies it.
fn filler(len: usize, seed: u8) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..len).map(|i| ALPHABET[(i * 7 + usize::from(seed)) % ALPHABET.len()] as char).collect()
}

/// An Entra-style response of about 10 KB: no whitespace between elements, every namespace
/// declared on the Response only (so c14n must render them on the Assertion), a ds:Signature
/// inside the Assertion, three claims typed with `xsi:type` (a prefix visibly used by an
/// attribute) and 80 untyped group values, as Entra sends them.
fn ten_kb_response() -> String {
    let mut x = String::with_capacity(12 * 1024);
    x.push_str(concat!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" "#,
        r#"xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" "#,
        r#"xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
        r#"ID="_r0c5a9f7e-3b2d-4c1e-9a8b-7f6e5d4c3b2a" Version="2.0" IssueInstant="2026-11-25T10:00:00.000Z" "#,
        r#"Destination="https://hub.example.com/saml/acs">"#,
        r#"<saml:Issuer>https://sts.windows.net/00000000-0000-0000-0000-000000000000/</saml:Issuer>"#,
        r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
        r#"<saml:Assertion ID="_a1b2c3d4-e5f6-4711-8899-aabbccddeeff" Version="2.0" "#,
        r#"IssueInstant="2026-11-25T10:00:00.000Z">"#,
        r#"<saml:Issuer>https://sts.windows.net/00000000-0000-0000-0000-000000000000/</saml:Issuer>"#,
        r#"<ds:Signature><ds:SignedInfo>"#,
        r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>"#,
        r##"<ds:Reference URI="#_a1b2c3d4-e5f6-4711-8899-aabbccddeeff"><ds:Transforms>"##,
        r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>"#,
        r#"<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#,
    ));
    write!(x, "<ds:DigestValue>{}=</ds:DigestValue></ds:Reference></ds:SignedInfo>", filler(43, 1)).unwrap();
    write!(x, "<ds:SignatureValue>{}==</ds:SignatureValue>", filler(342, 2)).unwrap();
    write!(x, "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate>", filler(1000, 3)).unwrap();
    x.push_str(concat!(
        r#"</ds:X509Data></ds:KeyInfo></ds:Signature>"#,
        r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">"#,
        r#"alice@example.com</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
        r#"<saml:SubjectConfirmationData NotOnOrAfter="2026-11-25T10:05:00.000Z" "#,
        r#"Recipient="https://hub.example.com/saml/acs"/></saml:SubjectConfirmation></saml:Subject>"#,
        r#"<saml:Conditions NotBefore="2026-11-25T09:55:00.000Z" NotOnOrAfter="2026-11-25T11:00:00.000Z">"#,
        r#"<saml:AudienceRestriction><saml:Audience>https://hub.example.com/saml/sp</saml:Audience>"#,
        r#"</saml:AudienceRestriction></saml:Conditions><saml:AttributeStatement>"#,
    ));
    let attribute = |x: &mut String, name: &str, typed: bool, values: &[String]| {
        write!(x, r#"<saml:Attribute Name="{name}">"#).unwrap();
        let value_tag = if typed { r#"saml:AttributeValue xsi:type="xs:string""# } else { "saml:AttributeValue" };
        for v in values {
            write!(x, "<{value_tag}>{v}</saml:AttributeValue>").unwrap();
        }
        x.push_str("</saml:Attribute>");
    };
    let claims = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
    attribute(&mut x, &format!("{claims}/emailaddress"), true, &["alice@example.com".into()]);
    attribute(&mut x, &format!("{claims}/givenname"), true, &["Alice".into()]);
    // One value that needs escaping, so the escaping path is exercised too.
    attribute(&mut x, &format!("{claims}/department"), true, &["R&amp;D &lt;EMEA&gt;".into()]);
    let groups: Vec<String> = (0..80).map(|i| format!("{i:08x}-1111-2222-3333-444455556666")).collect();
    attribute(&mut x, "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", false, &groups);
    x.push_str(concat!(
        r#"</saml:AttributeStatement><saml:AuthnStatement AuthnInstant="2026-11-25T09:59:58.000Z" "#,
        r#"SessionIndex="_a1b2c3d4-e5f6-4711-8899-aabbccddeeff"><saml:AuthnContext><saml:AuthnContextClassRef>"#,
        r#"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"#,
        r#"</saml:AuthnContext></saml:AuthnStatement></saml:Assertion></samlp:Response>"#,
    ));
    assert!((9_000..12_000).contains(&x.len()), "response is {} bytes", x.len());
    x
}

fn main() {
    let xml = ten_kb_response();
    let doc = parse(xml.as_bytes()).unwrap();
    let assertion = doc.descendants().find(|e| e.is(SAML, "Assertion")).unwrap().id();
    let signature = doc.descendants().find(|e| e.is(DSIG, "Signature")).unwrap().id();
    let whole = C14nOptions::default();
    let enveloped = C14nOptions { exclude: Some(signature), ..C14nOptions::default() };
    let canonical_len = {
        let mut out = Vec::new();
        canonicalize(&doc, assertion, &whole, &mut out);
        out.len()
    };

    let raw = RawRsa::new();
    let raw_sign = || raw.sign();
    let raw_verify = || raw.verify();
    // One output buffer reused, as a verifier digesting several references would.
    let mut out = Vec::with_capacity(canonical_len + 64);
    let mut c14n = || {
        out.clear();
        canonicalize(&doc, black_box(assertion), &whole, &mut out);
        black_box(&out);
    };
    let mut out2 = Vec::with_capacity(canonical_len + 64);
    let mut c14n_enveloped = || {
        out2.clear();
        canonicalize(&doc, black_box(assertion), &enveloped, &mut out2);
        black_box(&out2);
    };
    let parse_c14n = || {
        let doc = parse(black_box(xml.as_bytes())).unwrap();
        let assertion = doc.descendants().find(|e| e.is(SAML, "Assertion")).unwrap().id();
        black_box(crossfed_xml::canonicalize_to_vec(&doc, assertion, &C14nOptions::default()));
    };

    let mut c = Criterion::default().configure_from_args();
    c.bench_function("reference: raw RSA-2048 verify", |b| b.iter(raw_verify));
    c.bench_function("reference: raw RSA-2048 sign", |b| b.iter(raw_sign));
    c.bench_function("c14n Assertion of 10 KB response", |b| b.iter(&mut c14n));
    c.bench_function("c14n Assertion minus Signature", |b| b.iter(&mut c14n_enveloped));
    c.bench_function("parse + c14n 10 KB response", |b| b.iter(parse_c14n));
    c.final_summary();

    // The ratios, measured back to back so machine load affects both sides alike.
    let window = summary_window();
    let verify_raw = rate(window, raw_verify);
    let sign_raw = rate(window, raw_sign);
    let c14n_ours = rate(window, &mut c14n);
    let enveloped_ours = rate(window, &mut c14n_enveloped);
    let parse_ours = rate(window, parse_c14n);
    println!(
        "\nsummary ({} bytes response, {canonical_len} bytes canonical Assertion, 1 core, {} ms windows):",
        xml.len(),
        window.as_millis()
    );
    println!("  raw RSA-2048 verify          {verify_raw:>9.0}/s");
    println!("  raw RSA-2048 sign            {sign_raw:>9.0}/s");
    for (what, ours) in [
        ("c14n Assertion             ", c14n_ours),
        ("c14n minus Signature       ", enveloped_ours),
        ("parse + c14n               ", parse_ours),
    ] {
        println!("  {what}  {ours:>9.0}/s  ratio {:.1} to verify, {:.1} to sign", ours / verify_raw, ours / sign_raw);
    }
}
