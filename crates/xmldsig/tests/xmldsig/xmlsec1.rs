//! Interop with xmlsec1, an independent XML-DSig implementation: it verifies what we sign and we
//! verify what it signs, over documents chosen to exercise canonicalization (redeclared and
//! default namespaces, attribute escaping, whitespace and CR, non-ASCII text, inclusive prefixes).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;
use std::sync::OnceLock;

use crossfed_testkit::{run, temp_dir, xmlsec1};
use crossfed_xml::{parse, to_xml};
use crossfed_xmldsig::{DsigError, SignOptions, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped};

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate_rsa("xmlsec1 interop", crossfed_clock::Clock::system().now(), 30).unwrap())
}

/// (name, element xmlsec1 resolves IDs on as `ns:local`, document)
fn documents() -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "saml assertion",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_d1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">
  <saml:Issuer>https://hub.example.com</saml:Issuer>
  <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">alice@example.com</saml:NameID></saml:Subject>
  <saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue xsi:type="xs:string">arn:aws:iam::123456789012:role/Agent,arn:aws:iam::123456789012:saml-provider/Hub</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>
</saml:Assertion>"#
                .to_string(),
        ),
        (
            "default and redeclared namespaces",
            "urn:example:doc:Doc",
            "<Doc xmlns=\"urn:example:doc\" xmlns:a=\"urn:a\" ID=\"_d2\"><a:x xmlns:a=\"urn:a2\"><inner xmlns=\"\"><deeper xmlns=\"urn:example:doc\"/></inner></a:x><a:y a:z=\"1\" b=\"2\"/></Doc>".to_string(),
        ),
        (
            "attribute escaping and sorting",
            "urn:example:doc:Doc",
            "<d:Doc xmlns:d=\"urn:example:doc\" xmlns:z=\"urn:z\" xmlns:b=\"urn:b\" ID=\"_d3\"><d:e z:k=\"&quot;q&quot; &amp; &lt;t&gt;\" b:k=\"tab&#9;nl&#10;cr&#13;\" plain=\"'apos'\" a=\"1\"/></d:Doc>".to_string(),
        ),
        (
            "whitespace, CR and non-ASCII text",
            "urn:example:doc:Doc",
            "<d:Doc xmlns:d=\"urn:example:doc\" ID=\"_d4\">\r\n  <d:t>line one&#13;\r\nline two\ttabbed  </d:t>\n  <d:u>Zoë Šťastná — 東京 😀 &lt;&amp;&gt;</d:u>\n  <d:c><![CDATA[<not markup> & stuff]]></d:c><!-- a comment -->\n</d:Doc>".to_string(),
        ),
    ]
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn xmlsec1_verify(dir: &std::path::Path, xml: &str, id_node: &str) -> std::process::Output {
    let cert = write(dir, "cert.pem", &key().certificate().to_pem());
    let file = write(dir, "signed.xml", xml);
    crossfed_testkit::xmlsec1_verify(&cert, &[id_node], &file)
}

#[test]
fn xmlsec1_verifies_what_we_sign() {
    let dir = temp_dir();
    for (name, id_node, xml) in documents() {
        let mut doc = parse(xml.as_bytes()).unwrap();
        let root = doc.root();
        sign_enveloped(&mut doc, root, key(), &SignOptions::default()).unwrap();
        let signed = to_xml(&doc);
        let out = xmlsec1_verify(dir.path(), &signed, id_node);
        assert!(
            out.status.success(),
            "{name}: xmlsec1 rejected our signature:\n{}\n{signed}",
            String::from_utf8_lossy(&out.stderr)
        );

        // The same check fails once the content changes, so the test above can fail.
        let tampered = signed.replacen("ID=\"", "data-x=\"1\" ID=\"", 1);
        let out = xmlsec1_verify(dir.path(), &tampered, id_node);
        assert!(!out.status.success(), "{name}: xmlsec1 accepted a tampered document");
    }
}

const TEMPLATE_SIGNATURE: &str = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#ID_PLACEHOLDER"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">INCLUSIVE</ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"##;

/// Puts an empty signature template as the first child of the root, for xmlsec1 to fill.
fn template(xml: &str, inclusive: &str) -> String {
    let doc = parse(xml.as_bytes()).unwrap();
    let id = doc.root_element().attr("ID").unwrap();
    let signature = TEMPLATE_SIGNATURE.replace("ID_PLACEHOLDER", id).replace("INCLUSIVE", inclusive);
    let close = xml.find('>').unwrap();
    format!("{}{}{}", &xml[..=close], signature, &xml[close + 1..])
}

fn xmlsec1_sign(dir: &std::path::Path, xml: &str, id_node: &str) -> String {
    let key_file = write(dir, "key.pem", &key().private_key_pem());
    let cert = write(dir, "cert.pem", &key().certificate().to_pem());
    let input = write(dir, "template.xml", xml);
    let output = dir.join("signed-by-xmlsec1.xml");
    let out = run(Command::new(xmlsec1())
        .arg("--sign")
        .arg("--privkey-pem")
        .arg(format!("{},{}", key_file.display(), cert.display()))
        .args(["--id-attr:ID", id_node])
        .arg("--output")
        .arg(&output)
        .arg(&input));
    assert!(out.status.success(), "xmlsec1 --sign failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read_to_string(output).unwrap()
}

#[test]
fn we_verify_what_xmlsec1_signs() {
    let dir = temp_dir();
    let trusted = vec![key().certificate().clone()];
    for (name, id_node, xml) in documents() {
        for inclusive in [
            "",
            "<ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"xs #default\"/>",
        ] {
            let signed = xmlsec1_sign(dir.path(), &template(&xml, inclusive), id_node);
            let doc = parse(signed.as_bytes()).unwrap();
            let result = verify_enveloped(&doc, doc.root(), &trusted, &VerifyOptions::default());
            assert!(result.is_ok(), "{name} (inclusive={inclusive:?}): {:?}\n{signed}", result.err());

            let tampered = parse(signed.replacen("ID=\"", "data-x=\"1\" ID=\"", 1).as_bytes()).unwrap();
            let result = verify_enveloped(&tampered, tampered.root(), &trusted, &VerifyOptions::default());
            assert_eq!(result.unwrap_err(), DsigError::DigestMismatch, "{name}");
        }
    }
}
