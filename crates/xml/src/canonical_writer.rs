//! Writing a document directly in its exclusive canonical form, for documents the program builds
//! itself (the IdP's Responses): no tree is built and no canonicalization pass runs, so the bytes
//! of an element to be signed are already what its digest covers.
//!
//! The output follows the rules of [`crate::canonicalize`]: a namespace is declared on the
//! element that uses it unless an output ancestor already declared the same binding, attributes
//! (unprefixed only) are sorted by name, empty elements are written as start and end tags, and
//! text and attribute values are escaped as canonical XML escapes them. Parsing the output and
//! canonicalizing any element of it gives back that element's bytes, provided the element is a
//! [`CanonicalWriter::begin_standalone`] region.

use crate::c14n::{escape_attr, escape_text, write_namespace, write_qname};
use crate::error::XmlError;
use crate::tree::QualifiedName;

/// An open element: its name, and how many bindings were rendered before it.
struct Open<'a> {
    prefix: &'a str,
    local: &'a str,
    rendered_mark: usize,
}

pub struct CanonicalWriter<'a> {
    out: Vec<u8>,
    /// Namespace bindings declared by the open elements, innermost last.
    rendered: Vec<(&'a str, &'a str)>,
    open: Vec<Open<'a>>,
    /// Standalone regions under way, innermost last: the depth of the region's element, and how
    /// many bindings were declared outside it.
    regions: Vec<(usize, usize)>,
    /// Unprefixed attributes of the element being started, sorted before writing.
    attributes: Vec<(&'a str, &'a str)>,
}

impl<'a> CanonicalWriter<'a> {
    pub fn with_capacity(bytes: usize) -> CanonicalWriter<'a> {
        CanonicalWriter {
            out: Vec::with_capacity(bytes),
            rendered: Vec::with_capacity(8),
            open: Vec::with_capacity(16),
            regions: Vec::with_capacity(2),
            attributes: Vec::with_capacity(8),
        }
    }

    /// Bytes that precede the canonical content (an XML declaration); nothing is checked.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Starts element `name` with these unprefixed attributes (`None` values are left out).
    pub fn start(
        &mut self,
        name: QualifiedName<'a>,
        attributes: &[(&'a str, Option<&'a str>)],
    ) -> Result<(), XmlError> {
        let QualifiedName { prefix, local, ns } = name;
        let declared = self.rendered.iter().rposition(|(p, _)| *p == prefix);
        let region_base = self.regions.last().map_or(0, |(_, base)| *base);
        let declare = match declared.and_then(|i| self.rendered.get(i).map(|(_, u)| (i, *u))) {
            Some((_, uri)) if uri != ns => true,
            Some((i, _)) if i < region_base => {
                // An element outside the region declared it: the region's own canonical form
                // declares it here, the enclosing element's does not; no bytes fit both.
                return Err(XmlError::InvalidNamespaceDeclaration(format!(
                    "<{prefix}:{local}> relies on a declaration outside the element to be signed"
                )));
            }
            Some(_) => false,
            None => !(prefix.is_empty() && ns.is_empty()),
        };
        self.open.push(Open { prefix, local, rendered_mark: self.rendered.len() });
        self.out.push(b'<');
        write_qname(prefix, local, &mut self.out);
        if declare {
            self.rendered.push((prefix, ns));
            write_namespace(prefix, ns, &mut self.out);
        }
        self.attributes.clear();
        self.attributes.extend(attributes.iter().filter_map(|(n, v)| v.map(|v| (*n, v))));
        self.attributes.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if let Some(pair) = self.attributes.windows(2).find(|pair| matches!(pair, [a, b] if a.0 == b.0)) {
            let name = pair.first().map_or("", |a| a.0).to_string();
            return Err(XmlError::DuplicateAttribute { element: qualified(prefix, local), name });
        }
        for i in 0..self.attributes.len() {
            let Some(&(name, value)) = self.attributes.get(i) else { continue };
            check_characters(value)?;
            self.out.push(b' ');
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attr(value, &mut self.out);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        Ok(())
    }

    /// Text content of the open element.
    pub fn text(&mut self, text: &str) -> Result<(), XmlError> {
        check_characters(text)?;
        escape_text(text, &mut self.out);
        Ok(())
    }

    /// Ends the innermost open element.
    pub fn end(&mut self) {
        if let Some(open) = self.open.pop() {
            self.out.extend_from_slice(b"</");
            write_qname(open.prefix, open.local, &mut self.out);
            self.out.push(b'>');
            self.rendered.truncate(open.rendered_mark);
            if self.regions.last().is_some_and(|(depth, _)| *depth == self.open.len()) {
                self.regions.pop();
            }
        }
    }

    /// An element holding only `text`.
    pub fn text_element(
        &mut self,
        name: QualifiedName<'a>,
        attributes: &[(&'a str, Option<&'a str>)],
        text: &str,
    ) -> Result<(), XmlError> {
        self.start(name, attributes)?;
        self.text(text)?;
        self.end();
        Ok(())
    }

    /// Marks the next element as one whose bytes must be its canonical form on their own (an
    /// element to be signed): it and its descendants may not rely on a namespace declared by
    /// the elements open now. Returns where its bytes start.
    pub fn begin_standalone(&mut self) -> usize {
        self.regions.push((self.open.len(), self.rendered.len()));
        self.out.len()
    }

    /// Where the next byte goes.
    pub fn position(&self) -> usize {
        self.out.len()
    }

    /// The bytes written in `range` (of [`CanonicalWriter::position`]s).
    pub fn written(&self, range: std::ops::Range<usize>) -> &[u8] {
        self.out.get(range).unwrap_or_default()
    }

    /// Puts `bytes` at `at`, an earlier [`CanonicalWriter::position`] between two elements
    /// (where an enveloped signature goes once the element's digest is known).
    pub fn insert(&mut self, at: usize, bytes: &[u8]) {
        let end = self.out.len();
        let at = at.min(end);
        // Grow by the inserted length, move the tail up in one copy, then fill the gap.
        self.out.extend_from_slice(bytes);
        self.out.copy_within(at..end, at + bytes.len());
        if let Some(gap) = self.out.get_mut(at..at + bytes.len()) {
            gap.copy_from_slice(bytes);
        }
    }

    /// Everything written, as text. Elements left open stay open.
    pub fn into_string(self) -> String {
        // Only `&str`s were written, so this cannot fail; the fallback keeps it total.
        String::from_utf8(self.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }
}

fn qualified(prefix: &str, local: &str) -> String {
    if prefix.is_empty() { local.to_string() } else { format!("{prefix}:{local}") }
}

/// Text the parser would refuse cannot be written: XML 1.0 has no C0 controls but TAB, LF and
/// CR, and no U+FFFE or U+FFFF. The parser's own check (a scan that vectorizes).
fn check_characters(text: &str) -> Result<(), XmlError> {
    crate::parse::check_characters(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{C14nOptions, canonicalize_to_vec, parse};

    const A: &str = "urn:example:a";
    const B: &str = "urn:example:b";

    fn a(local: &str) -> QualifiedName<'_> {
        QualifiedName::new("a", local, A)
    }

    fn b(local: &str) -> QualifiedName<'_> {
        QualifiedName::new("b", local, B)
    }

    /// The writer's bytes for each standalone element equal exclusive c14n of that element in
    /// the parsed document, whatever the values hold.
    #[test]
    fn standalone_elements_are_written_in_their_canonical_form() {
        let odd = "tab\there, LF\nCR\r, quote \" apostrophe ' & < > ]]> é 日本 \u{1F600}";
        let mut w = CanonicalWriter::with_capacity(256);
        w.raw(crate::XML_DECLARATION.as_bytes());
        w.start(a("Root"), &[("Zed", Some("z")), ("Id", Some("r1")), ("Missing", None)]).unwrap();
        w.text_element(b("Issuer"), &[], odd).unwrap();
        let signed_from = w.begin_standalone();
        w.start(b("Signed"), &[("ID", Some("s1")), ("Attr", Some(odd))]).unwrap();
        w.text_element(b("Empty"), &[], "").unwrap();
        w.text_element(b("Value"), &[("Format", Some(A))], odd).unwrap();
        w.text_element(QualifiedName::new("c", "Other", "urn:example:c"), &[], "x").unwrap();
        w.end();
        let signed = w.written(signed_from..w.position()).to_vec();
        w.text_element(a("After"), &[], "").unwrap();
        w.end();
        let text = w.into_string();

        let doc = parse(text.as_bytes()).unwrap();
        let root = doc.root_element();
        let declaration_len = crate::XML_DECLARATION.len();
        assert_eq!(canonicalize_to_vec(&doc, root.id(), &C14nOptions::default()), text.as_bytes()[declaration_len..]);
        let element = doc.descendants().find(|e| e.is(B, "Signed")).unwrap();
        assert_eq!(canonicalize_to_vec(&doc, element.id(), &C14nOptions::default()), signed);
        assert_eq!(element.attr("Attr"), Some(odd));
        assert!(text.contains("<a:Root xmlns:a=\"urn:example:a\" Id=\"r1\" Zed=\"z\">"), "{text}");
        assert!(text.contains("<b:Empty></b:Empty>"), "{text}");
    }

    #[test]
    fn what_no_canonical_bytes_can_hold_is_refused() {
        let mut w = CanonicalWriter::with_capacity(64);
        assert_eq!(w.start(a("R"), &[("x", Some("\u{1}"))]), Err(XmlError::InvalidCharacter { code: 1 }));
        let mut w = CanonicalWriter::with_capacity(64);
        w.start(a("R"), &[]).unwrap();
        assert_eq!(w.text("bad \u{FFFE}"), Err(XmlError::InvalidCharacter { code: 0xFFFE }));
        assert!(matches!(
            w.start(a("S"), &[("x", Some("1")), ("x", Some("2"))]),
            Err(XmlError::DuplicateAttribute { .. })
        ));

        // An element to be signed cannot lean on a declaration of the element around it.
        let mut w = CanonicalWriter::with_capacity(64);
        w.start(a("R"), &[]).unwrap();
        w.begin_standalone();
        assert!(matches!(w.start(a("Signed"), &[]), Err(XmlError::InvalidNamespaceDeclaration(_))));
        // Once that element is closed, the enclosing one's declarations serve again.
        let mut w = CanonicalWriter::with_capacity(64);
        w.start(a("R"), &[]).unwrap();
        w.begin_standalone();
        w.start(b("Signed"), &[]).unwrap();
        w.end();
        w.start(a("After"), &[]).unwrap();
        w.end();
        w.end();
        assert_eq!(
            w.into_string(),
            "<a:R xmlns:a=\"urn:example:a\"><b:Signed xmlns:b=\"urn:example:b\"></b:Signed><a:After></a:After></a:R>"
        );
    }

    #[test]
    fn a_signature_inserted_between_elements_lands_there() {
        let mut w = CanonicalWriter::with_capacity(64);
        w.start(a("R"), &[]).unwrap();
        w.text_element(a("Issuer"), &[], "i").unwrap();
        let at = w.position();
        w.text_element(a("Body"), &[], "b").unwrap();
        w.end();
        w.insert(at, b"<a:Sig></a:Sig>");
        assert_eq!(
            w.into_string(),
            "<a:R xmlns:a=\"urn:example:a\"><a:Issuer>i</a:Issuer><a:Sig></a:Sig><a:Body>b</a:Body></a:R>"
        );
    }

    proptest::proptest! {
        /// Any values the writer accepts come back from parsing unchanged, and the standalone
        /// element's bytes are its canonical form.
        #[test]
        fn any_accepted_values_round_trip_canonically(
            values in proptest::collection::vec("[a-z&<>\"'\t\n\r \u{0}\u{1}\u{7f}\u{e9}\u{fffe}\u{10000}]{0,12}", 4),
        ) {
            let mut w = CanonicalWriter::with_capacity(256);
            let written = (|| -> Result<Vec<u8>, XmlError> {
                w.start(a("Root"), &[("v", Some(&values[0]))])?;
                let from = w.begin_standalone();
                w.start(b("Signed"), &[("ID", Some("s")), ("v", Some(&values[1]))])?;
                w.text_element(b("Value"), &[], &values[2])?;
                w.text(&values[3])?;
                w.end();
                let signed = w.written(from..w.position()).to_vec();
                w.end();
                Ok(signed)
            })();
            let writable = values.iter().all(|v| v.chars().all(crate::parse::is_xml_char));
            proptest::prop_assert_eq!(written.is_ok(), writable);
            if let Ok(signed) = written {
                let text = w.into_string();
                let doc = parse(text.as_bytes()).unwrap();
                let element = doc.descendants().find(|e| e.is(B, "Signed")).unwrap();
                proptest::prop_assert_eq!(canonicalize_to_vec(&doc, element.id(), &C14nOptions::default()), signed);
                proptest::prop_assert_eq!(canonicalize_to_vec(&doc, doc.root_element().id(), &C14nOptions::default()), text.as_bytes());
                proptest::prop_assert_eq!(doc.root_element().attr("v"), Some(values[0].as_str()));
                proptest::prop_assert_eq!(element.attr("v"), Some(values[1].as_str()));
                let value = doc.descendants().find(|e| e.is(B, "Value")).unwrap();
                proptest::prop_assert_eq!(value.text(), Ok(values[2].as_str()));
            }
        }
    }
}
