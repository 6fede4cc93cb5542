//! The parser's refusals and what it keeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_xml::{Child, Limits, XmlError, parse, parse_with_limits, to_xml};

#[test]
fn keeps_prefixes_namespaces_and_attributes() {
    let doc = parse(br#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r1" Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">idp</saml:Issuer></samlp:Response>"#)
    .unwrap();
    let root = doc.root_element();
    assert_eq!(root.prefix(), "samlp");
    assert_eq!(root.local_name(), "Response");
    assert_eq!(root.namespace(), "urn:oasis:names:tc:SAML:2.0:protocol");
    assert_eq!(root.attr("ID"), Some("_r1"));
    let issuer = root.child("urn:oasis:names:tc:SAML:2.0:assertion", "Issuer").unwrap();
    assert_eq!(issuer.text().unwrap(), "idp");
    assert_eq!(
        issuer.namespace_declarations().collect::<Vec<_>>(),
        vec![("saml", "urn:oasis:names:tc:SAML:2.0:assertion")]
    );
}

#[test]
fn default_namespace_does_not_apply_to_attributes() {
    let doc = parse(br#"<a xmlns="urn:x" b="1"/>"#).unwrap();
    let root = doc.root_element();
    assert_eq!(root.namespace(), "urn:x");
    assert_eq!(root.attr("b"), Some("1"));
    assert_eq!(root.attr_ns("urn:x", "b"), None);
}

#[test]
fn rejects_doctype_and_entities() {
    let billion_laughs =
        br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    assert_eq!(parse(billion_laughs).unwrap_err(), XmlError::Doctype);
    let xxe = br#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
    assert_eq!(parse(xxe).unwrap_err(), XmlError::Doctype);
    assert_eq!(parse(b"<r>&custom;</r>").unwrap_err(), XmlError::UnknownEntity { name: "custom".into() });
    assert_eq!(parse(b"<r a=\"&custom;\"/>").unwrap_err(), XmlError::UnknownEntity { name: "custom".into() });
}

#[test]
fn rejects_processing_instructions() {
    let err = parse(b"<r><?xml-stylesheet href=\"x\"?></r>").unwrap_err();
    assert_eq!(err, XmlError::ProcessingInstruction { target: "xml-stylesheet".into() });
}

#[test]
fn resolves_predefined_and_character_references() {
    let doc = parse(b"<r a=\"&lt;&#x41;&#66;&quot;\">&amp;&gt;&apos;&#x263A;</r>").unwrap();
    assert_eq!(doc.root_element().attr("a"), Some("<AB\""));
    assert_eq!(doc.root_element().text().unwrap(), "&>'\u{263A}");
    assert!(matches!(parse(b"<r>&#0;</r>").unwrap_err(), XmlError::InvalidCharReference { .. }));
    assert!(matches!(parse(b"<r>&#xD800;</r>").unwrap_err(), XmlError::InvalidCharReference { .. }));
    assert!(matches!(parse(b"<r>\x01</r>").unwrap_err(), XmlError::InvalidCharacter { code: 1 }));
}

#[test]
fn normalizes_line_ends_and_attribute_whitespace() {
    let doc = parse(b"<r a=\"x\ty\r\nz&#10;\">1\r\n2\r3&#13;</r>").unwrap();
    assert_eq!(doc.root_element().attr("a"), Some("x y z\n"));
    assert_eq!(doc.root_element().text().unwrap(), "1\n2\n3\r");
}

#[test]
fn comments_inside_values_are_refused_not_skipped() {
    // The NameID comment-truncation attack: a parser that reads the first text node sees
    // "admin@example.com" while the signature covers "admin@example.com.evil.com".
    let doc = parse(b"<NameID>admin@example.com<!---->.evil.com</NameID>").unwrap();
    assert_eq!(doc.root_element().text().unwrap_err(), XmlError::CommentInValue { element: "NameID".into() });
    let doc = parse(b"<NameID>a<b/>c</NameID>").unwrap();
    assert!(matches!(doc.root_element().text().unwrap_err(), XmlError::ElementInValue { .. }));
}

#[test]
fn cdata_is_text() {
    let doc = parse(b"<r>a<![CDATA[<b>&]]>c</r>").unwrap();
    assert_eq!(doc.root_element().text().unwrap(), "a<b>&c");
}

#[test]
fn namespace_errors() {
    assert_eq!(parse(b"<p:r/>").unwrap_err(), XmlError::UndeclaredPrefix { prefix: "p".into() });
    assert_eq!(parse(b"<r p:a=\"1\"/>").unwrap_err(), XmlError::UndeclaredPrefix { prefix: "p".into() });
    assert!(matches!(parse(b"<r xmlns:p=\"\"/>").unwrap_err(), XmlError::InvalidNamespaceDeclaration(_)));
    assert!(matches!(
        parse(br#"<r xmlns:a="urn:x" xmlns:b="urn:x" a:v="1" b:v="2"/>"#).unwrap_err(),
        XmlError::DuplicateAttribute { .. }
    ));
    assert!(matches!(parse(br#"<r v="1" v="2"/>"#).unwrap_err(), XmlError::DuplicateAttribute { .. }));
}

#[test]
fn limits_name_what_was_exceeded() {
    let limits = Limits { max_bytes: 10, ..Limits::default() };
    assert_eq!(
        parse_with_limits(b"<r>0123456789</r>", &limits).unwrap_err(),
        XmlError::TooLarge { limit: 10, actual: 17 }
    );
    let deep = "<a>".repeat(70) + &"</a>".repeat(70);
    assert_eq!(parse(deep.as_bytes()).unwrap_err(), XmlError::TooDeep { limit: 64 });
    let limits = Limits { max_nodes: 5, ..Limits::default() };
    assert_eq!(
        parse_with_limits(b"<a><b/><b/><b/><b/><b/></a>", &limits).unwrap_err(),
        XmlError::TooManyNodes { limit: 5 }
    );
    let limits = Limits { max_attributes: 2, ..Limits::default() };
    assert!(matches!(
        parse_with_limits(b"<a x=\"1\" y=\"2\" z=\"3\"/>", &limits).unwrap_err(),
        XmlError::TooManyAttributes { limit: 2, .. }
    ));
}

#[test]
fn malformed_documents_are_syntax_errors() {
    for bad in [&b"<a>"[..], b"<a></b>", b"", b"text", b"<a/><b/>", b"<a/>trailing", b"\xff\xfe<a/>"] {
        assert!(parse(bad).is_err(), "{:?} should be rejected", String::from_utf8_lossy(bad));
    }
    assert!(matches!(
        parse(b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>").unwrap_err(),
        XmlError::UnsupportedDeclaration(_)
    ));
}

#[test]
fn writer_output_parses_to_the_same_tree() {
    let src = "<a xmlns=\"urn:a\" xmlns:b=\"urn:b\" b:x=\"1&amp;&lt;&quot;&#9;&#10;&#13;\"><b:c>t&lt;&amp;&gt;&#13;</b:c><!--note--><d/></a>";
    let doc = parse(src.as_bytes()).unwrap();
    let written = to_xml(&doc);
    let again = parse(written.as_bytes()).unwrap();
    assert_eq!(to_xml(&again), written);
    assert_eq!(again.root_element().attr_ns("urn:b", "x"), Some("1&<\"\t\n\r"));
    let children: Vec<_> = again.root_element().children().collect();
    assert!(matches!(children[1], Child::Comment("note")));
}

#[test]
fn names_must_be_xml_names() {
    // Found by the xml_parse fuzz target: quick-xml reports `<\t\t />` as an element with an
    // empty name, which the writer could not write back.
    for bad in [&b"<\t\t />"[..], b"<1a/>", b"<a:b:c xmlns:a=\"urn:a\"/>", b"<:a/>", b"<a 1x=\"1\"/>", b"<a :x=\"1\"/>"]
    {
        assert!(
            matches!(parse(bad), Err(XmlError::InvalidName { .. })),
            "{:?} gave {:?}",
            String::from_utf8_lossy(bad),
            parse(bad).err()
        );
    }
    assert!(parse("<é-x.y_z/>".as_bytes()).is_ok());
}

#[test]
fn strictness_where_parsers_could_disagree() {
    // Each of these is not XML; accepting one would let crossfed read a document other parsers
    // refuse or read differently (found in review).
    for bad in [
        &br#"<Response xmlns:="urn:oasis:names:tc:SAML:2.0:protocol"/>"#[..],
        br#"<a xmlns:1x="urn:x"/>"#,
        br#"<a b="1"c="2"/>"#,
        br#"<a><?xml version="1.0"?></a>"#,
        br#"<?xml version="1.0"?><?xml version="1.0"?><a/>"#,
        b"<a>x]]>y</a>",
    ] {
        assert!(parse(bad).is_err(), "{:?} should be refused", String::from_utf8_lossy(bad));
    }
    assert!(parse(br#"<a b="1" c='2' d="3"/>"#).is_ok());
    assert!(parse(b"<a>x]]y</a>").is_ok());
    let mut deep = String::new();
    for i in 0..40 {
        deep.push_str(&format!("<e{i} xmlns:a{i}=\"u\" xmlns:b{i}=\"u\" xmlns:c{i}=\"u\" xmlns:d{i}=\"u\" xmlns:e{i}=\"u\" xmlns:f{i}=\"u\" xmlns:g{i}=\"u\">"));
    }
    for i in (0..40).rev() {
        deep.push_str(&format!("</e{i}>"));
    }
    assert!(matches!(parse(deep.as_bytes()).unwrap_err(), XmlError::InvalidNamespaceDeclaration(_)));
}
