//! `crossfed saml` and `crossfed keys` as a user runs them: the real binary, real files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use crossfed_saml::{Attribute, NameId, ResponseSpec, SignedParts, Timestamp, build_response, ns};
use crossfed_xmldsig::SigningKey;

fn crossfed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crossfed")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Keys {
    _dir: tempfile::TempDir,
    key: PathBuf,
    cert: PathBuf,
}

fn generate_keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("idp.key");
    let cert = dir.path().join("idp.crt");
    let out = crossfed(&["keys", "generate", "--cn", "test idp", "--key-out", path(&key), "--cert-out", path(&cert)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    Keys { _dir: dir, key, cert }
}

#[test]
fn sign_then_verify_and_detect_tampering() {
    let keys = generate_keys();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.xml");
    std::fs::write(&doc, "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_x\"><saml:Issuer>me</saml:Issuer><saml:Subject>bob</saml:Subject></saml:Assertion>").unwrap();
    let signed = dir.path().join("signed.xml");
    let out = crossfed(&[
        "saml",
        "sign",
        path(&doc),
        "--key",
        path(&keys.key),
        "--cert",
        path(&keys.cert),
        "-o",
        path(&signed),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = crossfed(&["saml", "verify", path(&signed), "--cert", path(&keys.cert)]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("✓ <saml:Assertion ID=\"_x\"> signed with RsaSha256 by CN=test idp"),
        "{}",
        stdout(&out)
    );

    // Without KeyInfo the configured certificate alone verifies it.
    let bare = dir.path().join("bare.xml");
    let out = crossfed(&[
        "saml",
        "sign",
        path(&doc),
        "--key",
        path(&keys.key),
        "--cert",
        path(&keys.cert),
        "--no-key-info",
        "-o",
        path(&bare),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!std::fs::read_to_string(&bare).unwrap().contains("KeyInfo"));
    assert!(std::fs::read_to_string(&signed).unwrap().contains("KeyInfo"));
    let out = crossfed(&["saml", "verify", path(&bare), "--cert", path(&keys.cert)]);
    assert!(out.status.success(), "{}", stdout(&out));

    let tampered = dir.path().join("tampered.xml");
    std::fs::write(&tampered, std::fs::read_to_string(&signed).unwrap().replace(">bob<", ">admin<")).unwrap();
    let out = crossfed(&["saml", "verify", path(&tampered), "--cert", path(&keys.cert)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("digest mismatch"), "{}", stdout(&out));
}

#[test]
fn decode_accepts_base64_and_redirect_forms() {
    let xml = "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\" Version=\"2.0\"/>";
    let dir = tempfile::tempdir().unwrap();
    let post = dir.path().join("post.txt");
    std::fs::write(&post, base64::engine::general_purpose::STANDARD.encode(xml)).unwrap();
    let out = crossfed(&["saml", "decode", path(&post)]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("<samlp:AuthnRequest"), "{}", stdout(&out));

    let query = crossfed_saml::redirect_query(crossfed_saml::MessageKind::Request, xml, Some("rs"), None).unwrap();
    let url = dir.path().join("url.txt");
    std::fs::write(&url, format!("https://idp.example.com/sso?{query}")).unwrap();
    let out = crossfed(&["saml", "decode", path(&url)]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("ID=\"_r\""));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RelayState: rs"));

    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, "!!!").unwrap();
    let out = crossfed(&["saml", "decode", path(&garbage)]);
    assert_eq!(out.status.code(), Some(2));
}

fn idp_metadata(dir: &Path, key: &SigningKey) -> PathBuf {
    let file = dir.join("idp-metadata.xml");
    std::fs::write(&file, format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://corp.example.com/idp"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://corp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        key.certificate().to_base64()
    )).unwrap();
    file
}

#[test]
fn validate_reports_every_check_and_the_failure() {
    let key = SigningKey::generate_rsa("corp", crossfed_clock::Clock::system().now(), 30).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let metadata = idp_metadata(dir.path(), &key);
    let t0 = Timestamp::parse("2026-11-25T10:00:00Z").unwrap();
    let spec = ResponseSpec {
        issuer: "https://corp.example.com/idp".into(),
        destination: "https://hub.example.com/acs".into(),
        audiences: vec!["https://hub.example.com".into()],
        in_response_to: None,
        name_id: NameId {
            value: "carol@example.com".into(),
            format: Some(ns::NAMEID_EMAIL.into()),
            ..NameId::default()
        },
        session_index: "_s".into(),
        authn_instant: t0,
        authn_context_class: ns::AUTHN_CONTEXT_PASSWORD_PROTECTED.into(),
        attributes: vec![Attribute::uri("groups", vec!["a".into(), "b".into()])],
        lifetime_seconds: 300,
        not_before_skew_seconds: 0,
        session_not_on_or_after: None,
        signed_parts: SignedParts::Both,
    };
    let response = build_response(&spec, t0, &key).unwrap();
    let file = dir.path().join("response.b64");
    std::fs::write(&file, base64::engine::general_purpose::STANDARD.encode(&response.xml)).unwrap();
    let common = [
        "--idp-metadata",
        path(&metadata),
        "--sp-entity-id",
        "https://hub.example.com",
        "--acs-url",
        "https://hub.example.com/acs",
    ];

    let mut args = vec!["saml", "validate", path(&file)];
    args.extend(common);
    args.extend(["--now", "2026-11-25T10:01:00Z", "--allow-unsolicited"]);
    let out = crossfed(&args);
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("✓ response signature") && text.contains("✓ audience") && text.contains("ACCEPTED"),
        "{text}"
    );
    assert!(text.contains("NameID: carol@example.com"), "{text}");

    // Ten minutes later the same response is expired: exit 1 and the named error in JSON.
    let mut args = vec!["saml", "validate", path(&file)];
    args.extend(common);
    args.extend(["--now", "2026-11-25T10:10:00Z", "--allow-unsolicited", "--json"]);
    let out = crossfed(&args);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], false);
    assert_eq!(report["error_kind"], "ConfirmationExpired");

    // Without --allow-unsolicited an IdP-initiated response is refused.
    let mut args = vec!["saml", "validate", path(&file)];
    args.extend(common);
    args.extend(["--now", "2026-11-25T10:01:00Z", "--json"]);
    let out = crossfed(&args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["error_kind"], "Unsolicited");
}
