//! Serialization. [`to_xml`] writes a tree so that parsing it back gives the same tree (and so
//! the same canonical form): what signers emit. [`to_pretty_xml`] re-indents for people.

use crate::c14n::{escape_attr, escape_text, write_namespace, write_qname};
use crate::tree::{Child, Document, Element, NodeId};

/// The declaration every document crossfed writes starts with.
pub const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// The whole document with an XML declaration.
pub fn to_xml(doc: &Document) -> String {
    let mut out = Vec::with_capacity(2048);
    out.extend_from_slice(XML_DECLARATION.as_bytes());
    write_node(doc.root_element(), &mut out);
    bytes_to_string(out)
}

/// One element's subtree, without a declaration. Namespaces declared on its ancestors are not
/// repeated, so this is for documents whose namespaces are declared where they are used.
pub fn element_to_xml(doc: &Document, id: NodeId) -> String {
    let mut out = Vec::with_capacity(1024);
    if let Some(e) = doc.element(id) {
        write_node(e, &mut out);
    }
    bytes_to_string(out)
}

fn bytes_to_string(out: Vec<u8>) -> String {
    // Every byte written comes from `&str`s, so this cannot fail; the fallback keeps it total.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn write_start(e: Element<'_>, out: &mut Vec<u8>) {
    out.push(b'<');
    write_qname(e.prefix(), e.local_name(), out);
    for (prefix, uri) in e.namespace_declarations() {
        write_namespace(prefix, uri, out);
    }
    for a in e.attributes() {
        out.push(b' ');
        if !a.prefix.is_empty() {
            out.extend_from_slice(a.prefix.as_bytes());
            out.push(b':');
        }
        out.extend_from_slice(a.local.as_bytes());
        out.extend_from_slice(b"=\"");
        escape_attr(a.value, out);
        out.push(b'"');
    }
}

fn write_end(e: Element<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"</");
    write_qname(e.prefix(), e.local_name(), out);
    out.push(b'>');
}

fn write_node(e: Element<'_>, out: &mut Vec<u8>) {
    write_start(e, out);
    let mut children = e.children().peekable();
    if children.peek().is_none() {
        out.extend_from_slice(b"/>");
        return;
    }
    out.push(b'>');
    for child in children {
        match child {
            Child::Element(c) => write_node(c, out),
            Child::Text(t) => escape_text(t, out),
            Child::Comment(c) => {
                out.extend_from_slice(b"<!--");
                out.extend_from_slice(c.as_bytes());
                out.extend_from_slice(b"-->");
            }
        }
    }
    write_end(e, out);
}

/// The document re-indented for reading. Whitespace-only text between elements is replaced,
/// so signatures over the result no longer verify: this is for display only.
pub fn to_pretty_xml(doc: &Document) -> String {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(XML_DECLARATION.as_bytes());
    out.push(b'\n');
    write_pretty(doc.root_element(), 0, &mut out);
    bytes_to_string(out)
}

fn is_blank(t: &str) -> bool {
    t.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

fn write_pretty(e: Element<'_>, depth: usize, out: &mut Vec<u8>) {
    let indent = |depth: usize, out: &mut Vec<u8>| out.extend(std::iter::repeat_n(b' ', depth * 2));
    indent(depth, out);
    write_start(e, out);
    let has_elements = e.child_elements().next().is_some();
    let children: Vec<Child<'_>> =
        e.children().filter(|c| !(has_elements && matches!(c, Child::Text(t) if is_blank(t)))).collect();
    if children.is_empty() {
        out.extend_from_slice(b"/>\n");
        return;
    }
    out.push(b'>');
    if !has_elements && children.iter().all(|c| matches!(c, Child::Text(_))) {
        for c in &children {
            if let Child::Text(t) = c {
                escape_text(t, out);
            }
        }
        write_end(e, out);
        out.push(b'\n');
        return;
    }
    out.push(b'\n');
    for child in children {
        match child {
            Child::Element(c) => write_pretty(c, depth + 1, out),
            Child::Text(t) => {
                indent(depth + 1, out);
                escape_text(t.trim(), out);
                out.push(b'\n');
            }
            Child::Comment(c) => {
                indent(depth + 1, out);
                out.extend_from_slice(b"<!--");
                out.extend_from_slice(c.as_bytes());
                out.extend_from_slice(b"-->\n");
            }
        }
    }
    indent(depth, out);
    write_end(e, out);
    out.push(b'\n');
}
