//! Properties over arbitrary input: parsing and canonicalizing never panic, and what the writer
//! emits parses back to a tree with the same canonical form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crossfed_xml::{C14nOptions, Document, QualifiedName, canonicalize_to_vec, parse, to_xml};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(doc) = parse(&input) {
            let _ = canonicalize_to_vec(&doc, doc.root(), &C14nOptions::default());
        }
    }

    #[test]
    fn xml_like_text_never_panics(input in "(<[a-c]{1,2}( [a-c:]{1,3}=\"[^\"<]{0,6}\")*/?>|</[a-c]{1,2}>|&[a-z#0-9]{0,5};?|<!--[a-z ]{0,5}-->|<!\\[CDATA\\[[a-z<&]{0,5}\\]\\]>|[a-z \r\n\t<>&]{0,4}|xmlns(:[a-c])?=\"urn:[a-c]\"){0,24}") {
        if let Ok(doc) = parse(input.as_bytes()) {
            let _ = canonicalize_to_vec(&doc, doc.root(), &C14nOptions::default());
            for e in doc.descendants() {
                let _ = e.text();
            }
        }
    }

    #[test]
    fn written_trees_parse_back_to_the_same_canonical_form(tree in tree_strategy()) {
        let doc = build(&tree);
        let written = to_xml(&doc);
        let reparsed = parse(written.as_bytes()).unwrap();
        let options = C14nOptions::default();
        prop_assert_eq!(
            canonicalize_to_vec(&doc, doc.root(), &options),
            canonicalize_to_vec(&reparsed, reparsed.root(), &options)
        );
    }
}

#[derive(Debug, Clone)]
enum Node {
    Element { ns: usize, local: String, attrs: Vec<(String, String)>, children: Vec<Node> },
    Text(String),
}

const NAMESPACES: [(&str, &str); 3] = [("", "urn:default"), ("a", "urn:a"), ("b", "urn:b")];

fn tree_strategy() -> impl Strategy<Value = Node> {
    let text = "[a-z &<>\"'\r\n\t\u{e9}\u{263a}]{1,8}".prop_map(Node::Text);
    let leaf = (0..3usize, "[a-z]{1,4}", proptest::collection::vec(("[a-z]{1,3}", "[a-z &<>\"\r\n\t]{0,6}"), 0..3))
        .prop_map(|(ns, local, attrs)| Node::Element { ns, local, attrs, children: vec![] });
    let base = prop_oneof![text, leaf];
    let inner = base.prop_recursive(4, 32, 4, |child| {
        (
            0..3usize,
            "[a-z]{1,4}",
            proptest::collection::vec(("[a-z]{1,3}", "[a-z &<>\"]{0,6}"), 0..3),
            proptest::collection::vec(child, 0..4),
        )
            .prop_map(|(ns, local, attrs, children)| Node::Element { ns, local, attrs, children })
    });
    (inner, "[a-z]{1,4}").prop_map(|(child, local)| Node::Element {
        ns: 1,
        local,
        attrs: vec![],
        children: vec![child],
    })
}

fn build(tree: &Node) -> Document {
    let Node::Element { local, .. } = tree else { unreachable!() };
    let mut doc = Document::new(QualifiedName::new("a", local, "urn:a"));
    let root = doc.root();
    for (prefix, uri) in NAMESPACES {
        doc.declare_namespace(root, prefix, uri).unwrap();
    }
    if let Node::Element { children, .. } = tree {
        for c in children {
            add(&mut doc, root, c);
        }
    }
    doc
}

fn add(doc: &mut Document, parent: crossfed_xml::NodeId, node: &Node) {
    match node {
        Node::Text(t) => {
            doc.append_text(parent, t);
        }
        Node::Element { ns, local, attrs, children } => {
            let (prefix, uri) = NAMESPACES[*ns];
            let e = doc.append_element(parent, QualifiedName::new(prefix, local, uri));
            for (name, value) in attrs {
                doc.set_attribute(e, QualifiedName::plain(name), value).unwrap();
            }
            for c in children {
                add(doc, e, c);
            }
        }
    }
}
