//! The hardened parser: quick-xml tokens turned into a [`Document`], refusing everything SAML
//! never needs and attackers often use (DTDs, custom entities, processing instructions), and
//! bounding size, depth, node and attribute counts.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::XmlError;
use crate::tree::{Document, NodeId, StrRef, XML_NS};

/// Bounds on what a single document may contain. The defaults fit SAML messages with room to
/// spare; metadata aggregates need larger ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_nodes: usize,
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 1024 * 1024, max_depth: 64, max_nodes: 50_000, max_attributes: 64 }
    }
}

impl Limits {
    /// Limits for metadata files, which may hold many entities.
    pub fn metadata() -> Self {
        Limits { max_bytes: 64 * 1024 * 1024, max_depth: 64, max_nodes: 5_000_000, max_attributes: 64 }
    }
}

/// Parses `input` with the default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Document, XmlError> {
    parse_with_limits(input, &Limits::default())
}

/// Parses `input`, which must be UTF-8 (an optional byte-order mark is skipped).
pub fn parse_with_limits(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge { limit: limits.max_bytes, actual: input.len() });
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| XmlError::NotUtf8 { position: e.valid_up_to() })?;
    check_characters(text)?;
    Parser::new(text, limits).run()
}

/// XML 1.0 allows no C0 controls but tab, LF and CR, and not U+FFFE / U+FFFF (encoded as
/// EF BF BE / EF BF BF). Written so the control scan vectorizes; 0xEF is rare, so memchr finds
/// the candidates for the other two.
pub(crate) fn check_characters(text: &str) -> Result<(), XmlError> {
    let bytes = text.as_bytes();
    let is_bad_control = |b: u8| b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r';
    if bytes.iter().fold(false, |acc, &b| acc | is_bad_control(b)) {
        let code = bytes.iter().copied().find(|&b| is_bad_control(b)).unwrap_or(0);
        return Err(XmlError::InvalidCharacter { code: u32::from(code) });
    }
    for i in memchr::memchr_iter(0xEF, bytes) {
        match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(0xBF), Some(0xBE)) => return Err(XmlError::InvalidCharacter { code: 0xFFFE }),
            (Some(0xBF), Some(0xBF)) => return Err(XmlError::InvalidCharacter { code: 0xFFFF }),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

struct Parser<'i> {
    reader: Reader<&'i [u8]>,
    limits: &'i Limits,
    doc: Document,
    /// Open elements, innermost last.
    open: Vec<NodeId>,
    /// In-scope namespace bindings, innermost last; `scope_marks` holds each open element's start.
    scope: Vec<(StrRef, StrRef)>,
    scope_marks: Vec<usize>,
    /// Text read since the last markup, not yet turned into a node (text and references arrive
    /// as separate events and form one node).
    pending_text: Option<StrRef>,
    root_closed: bool,
    /// Whether anything came before: an XML declaration is only allowed first.
    seen_event: bool,
    xml_prefix: StrRef,
    xml_ns: StrRef,
    scratch: String,
    /// (local, namespace) of the current element's attributes, for duplicate detection; kept
    /// between elements to avoid an allocation per element.
    seen_attributes: Vec<(StrRef, StrRef)>,
}

impl<'i> Parser<'i> {
    fn new(text: &'i str, limits: &'i Limits) -> Self {
        let mut reader = Reader::from_reader(text.as_bytes());
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        let mut doc = Document::with_capacity(text.len() + 64, text.len() / 24 + 8);
        let xml_prefix = doc.intern("xml");
        let xml_ns = doc.intern(XML_NS);
        Parser {
            reader,
            limits,
            doc,
            open: Vec::with_capacity(16),
            scope: Vec::with_capacity(16),
            scope_marks: Vec::with_capacity(16),
            pending_text: None,
            root_closed: false,
            seen_event: false,
            xml_prefix,
            xml_ns,
            scratch: String::new(),
            seen_attributes: Vec::with_capacity(8),
        }
    }

    fn syntax(&self, message: impl std::fmt::Display) -> XmlError {
        XmlError::Syntax { position: self.reader.buffer_position(), message: message.to_string() }
    }

    fn run(mut self) -> Result<Document, XmlError> {
        loop {
            let event = match self.reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(self.syntax(e)),
            };
            match event {
                Event::Start(start) => {
                    self.start_element(&start)?;
                }
                Event::Empty(start) => {
                    self.start_element(&start)?;
                    self.end_element();
                }
                Event::End(_) => {
                    self.flush_text();
                    self.end_element();
                }
                Event::Text(t) => {
                    let raw: &str = &t;
                    if raw.contains("]]>") {
                        return Err(self.syntax("\"]]>\" is not allowed in text"));
                    }
                    self.add_text(raw, true)?;
                }
                Event::CData(c) => {
                    let content = c.into_inner();
                    self.add_text(&content, true)?;
                }
                Event::GeneralRef(r) => {
                    let name: &str = &r;
                    let c = resolve_reference(name)?;
                    let mut buf = [0u8; 4];
                    let s: &str = c.encode_utf8(&mut buf);
                    self.add_text(s, false)?;
                }
                Event::Comment(c) => {
                    self.flush_text();
                    if let Some(&parent) = self.open.last() {
                        self.count_node()?;
                        let content: &str = &c;
                        let r = self.doc.intern(content);
                        let id = self.doc.create_comment_ref(r);
                        self.doc.append_child(parent, id);
                    }
                }
                Event::Decl(decl) => {
                    if self.seen_event {
                        return Err(self.syntax("an XML declaration may only stand at the very start"));
                    }
                    let version = decl.version().map_err(|e| self.syntax(e))?;
                    if version.as_ref() != "1.0" {
                        return Err(XmlError::UnsupportedDeclaration(format!("version {version}")));
                    }
                    if let Some(enc) = decl.encoding() {
                        let enc = enc.map_err(|e| self.syntax(e))?;
                        if !enc.eq_ignore_ascii_case("utf-8") {
                            return Err(XmlError::UnsupportedDeclaration(format!("encoding {enc}")));
                        }
                    }
                }
                Event::PI(pi) => {
                    return Err(XmlError::ProcessingInstruction { target: pi.target().to_string() });
                }
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Eof => break,
            }
            self.seen_event = true;
        }
        if !self.open.is_empty() {
            return Err(self.syntax("the document ends before its elements are closed"));
        }
        if !self.doc.has_root() {
            return Err(XmlError::NoRootElement);
        }
        Ok(self.doc)
    }

    fn count_node(&self) -> Result<(), XmlError> {
        if self.doc.node_count() >= self.limits.max_nodes {
            return Err(XmlError::TooManyNodes { limit: self.limits.max_nodes });
        }
        Ok(())
    }

    fn add_text(&mut self, raw: &str, normalize_eol: bool) -> Result<(), XmlError> {
        if self.open.is_empty() {
            // Only whitespace may stand outside the root element.
            if raw.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
                return Ok(());
            }
            return Err(if self.root_closed {
                XmlError::ContentAfterRoot("text".to_string())
            } else {
                XmlError::TextOutsideRoot
            });
        }
        let normalized: std::borrow::Cow<'_, str> = if normalize_eol && raw.contains('\r') {
            std::borrow::Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
        } else {
            std::borrow::Cow::Borrowed(raw)
        };
        self.pending_text = Some(match self.pending_text {
            None => self.doc.intern(&normalized),
            Some(r) => self.doc.extend_last(r, &normalized),
        });
        Ok(())
    }

    fn flush_text(&mut self) {
        if let (Some(r), Some(&parent)) = (self.pending_text.take(), self.open.last()) {
            let id = self.doc.create_text_ref(r);
            self.doc.append_child(parent, id);
        }
    }

    fn lookup(&self, prefix: &str) -> Option<StrRef> {
        if prefix == "xml" {
            return Some(self.xml_ns);
        }
        self.scope.iter().rev().find(|(p, _)| self.doc.s(*p) == prefix).map(|(_, u)| *u)
    }

    fn start_element(&mut self, start: &BytesStart<'_>) -> Result<(), XmlError> {
        self.flush_text();
        if self.root_closed {
            return Err(XmlError::ContentAfterRoot("a second root element".to_string()));
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(XmlError::TooDeep { limit: self.limits.max_depth });
        }
        self.count_node()?;
        let qname = start.name();
        let name: &str = qname.as_ref();
        let (prefix, local) = split_qname(name);
        check_qname(name, prefix, local)?;
        if prefix == "xmlns" {
            return Err(XmlError::InvalidNamespaceDeclaration(format!("<{name}> uses the reserved prefix xmlns")));
        }

        check_attribute_separation(name, start.attributes_raw())?;
        // Namespace declarations first: they apply to this element's own name and attributes.
        self.scope_marks.push(self.scope.len());
        // Most elements declare nothing; skip the pass for them.
        let declares = start.attributes_raw().contains("xmlns");
        for attr in start.attributes().with_checks(false).filter(|_| declares) {
            let attr = attr.map_err(|e| self.syntax(e))?;
            let key: &str = attr.key.as_ref();
            let declared = if key == "xmlns" { Some("") } else { key.strip_prefix("xmlns:") };
            if let Some(declared) = declared {
                if key != "xmlns" {
                    check_qname(declared, "", declared).map_err(|_| {
                        XmlError::InvalidNamespaceDeclaration(format!("{key:?} does not declare a valid prefix"))
                    })?;
                }
                if self.scope.len() >= MAX_NAMESPACES_IN_SCOPE {
                    return Err(XmlError::InvalidNamespaceDeclaration(format!(
                        "more than {MAX_NAMESPACES_IN_SCOPE} namespace declarations in scope"
                    )));
                }
                let value = self.attribute_value(key, &attr.value)?;
                self.check_namespace_declaration(declared, &value)?;
                if self
                    .scope
                    .get(self.scope_marks.last().copied().unwrap_or(0)..)
                    .is_some_and(|s| s.iter().any(|(p, _)| self.doc.s(*p) == declared))
                {
                    return Err(XmlError::DuplicateAttribute { element: name.to_string(), name: key.to_string() });
                }
                let p = self.doc.intern(declared);
                let u = self.doc.intern(&value);
                self.scope.push((p, u));
            }
        }

        let ns = match self.lookup(prefix) {
            Some(ns) => ns,
            None if prefix.is_empty() => StrRef::default(),
            None => return Err(XmlError::UndeclaredPrefix { prefix: prefix.to_string() }),
        };
        let prefix_ref = if prefix == "xml" { self.xml_prefix } else { self.doc.intern(prefix) };
        let local_ref = self.doc.intern(local);
        let id = self.doc.create_element_refs(prefix_ref, local_ref, ns);
        let mark = self.scope_marks.last().copied().unwrap_or(0);
        let own_decls: Vec<(StrRef, StrRef)> = self.scope.get(mark..).map(<[_]>::to_vec).unwrap_or_default();
        for (p, u) in own_decls {
            self.doc.push_ns_decl_refs(id, p, u)?;
        }

        let mut seen = std::mem::take(&mut self.seen_attributes);
        seen.clear();
        for (count, attr) in start.attributes().with_checks(false).enumerate() {
            if count >= self.limits.max_attributes {
                return Err(XmlError::TooManyAttributes {
                    element: name.to_string(),
                    limit: self.limits.max_attributes,
                });
            }
            let attr = attr.map_err(|e| self.syntax(e))?;
            let key: &str = attr.key.as_ref();
            if key == "xmlns" || key.starts_with("xmlns:") {
                continue;
            }
            let (a_prefix, a_local) = split_qname(key);
            check_qname(key, a_prefix, a_local)?;
            // Unprefixed attributes are in no namespace, whatever the default namespace is.
            let a_ns = if a_prefix.is_empty() {
                StrRef::default()
            } else {
                self.lookup(a_prefix).ok_or_else(|| XmlError::UndeclaredPrefix { prefix: a_prefix.to_string() })?
            };
            if seen.iter().any(|(l, n)| self.doc.s(*l) == a_local && self.doc.s(*n) == self.doc.s(a_ns)) {
                return Err(XmlError::DuplicateAttribute { element: name.to_string(), name: key.to_string() });
            }
            let value = self.attribute_value(key, &attr.value)?;
            let p = if a_prefix == "xml" { self.xml_prefix } else { self.doc.intern(a_prefix) };
            let l = self.doc.intern(a_local);
            let v = self.doc.intern(&value);
            seen.push((l, a_ns));
            self.doc.push_attr_refs(id, p, l, a_ns, v)?;
        }
        self.seen_attributes = seen;

        match self.open.last() {
            Some(&parent) => self.doc.append_child(parent, id),
            None => self.doc.set_root(id),
        }
        self.open.push(id);
        Ok(())
    }

    fn end_element(&mut self) {
        self.open.pop();
        if let Some(mark) = self.scope_marks.pop() {
            self.scope.truncate(mark);
        }
        if self.open.is_empty() {
            self.root_closed = true;
        }
    }

    fn check_namespace_declaration(&self, prefix: &str, uri: &str) -> Result<(), XmlError> {
        if prefix == "xmlns" {
            return Err(XmlError::InvalidNamespaceDeclaration("the prefix xmlns cannot be declared".to_string()));
        }
        if prefix == "xml" && uri != XML_NS {
            return Err(XmlError::InvalidNamespaceDeclaration(format!("the prefix xml cannot be bound to {uri}")));
        }
        if prefix != "xml" && uri == XML_NS {
            return Err(XmlError::InvalidNamespaceDeclaration(format!("{uri} can only be bound to the prefix xml")));
        }
        if !prefix.is_empty() && uri.is_empty() {
            return Err(XmlError::InvalidNamespaceDeclaration(format!(
                "xmlns:{prefix}=\"\" undeclares a prefix, which XML 1.0 namespaces do not allow"
            )));
        }
        Ok(())
    }

    /// Attribute-value normalization (XML 1.0 §3.3.3): literal whitespace becomes a space,
    /// references are replaced, and only the predefined entities are known.
    fn attribute_value<'v>(&mut self, name: &str, raw: &'v str) -> Result<std::borrow::Cow<'v, str>, XmlError> {
        if !raw.bytes().any(|b| matches!(b, b'&' | b'<' | b'\r' | b'\n' | b'\t')) {
            return Ok(std::borrow::Cow::Borrowed(raw));
        }
        self.scratch.clear();
        let mut rest = raw;
        while let Some(pos) = rest.find(['&', '<', '\r', '\n', '\t']) {
            let (before, after) = rest.split_at(pos);
            self.scratch.push_str(before);
            let mut chars = after.chars();
            match chars.next() {
                Some('&') => {
                    let body = chars.as_str();
                    let end = body
                        .find(';')
                        .ok_or_else(|| XmlError::InvalidCharReference { reference: truncate(body, 16) })?;
                    let (reference, tail) = body.split_at(end);
                    self.scratch.push(resolve_reference(reference)?);
                    rest = tail.get(1..).unwrap_or("");
                }
                Some('<') => return Err(XmlError::LessThanInAttribute { name: name.to_string() }),
                Some('\r') => {
                    self.scratch.push(' ');
                    let tail = chars.as_str();
                    rest = tail.strip_prefix('\n').unwrap_or(tail);
                }
                Some(_) => {
                    self.scratch.push(' ');
                    rest = chars.as_str();
                }
                None => break,
            }
        }
        self.scratch.push_str(rest);
        Ok(std::borrow::Cow::Owned(self.scratch.clone()))
    }
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Bounds the work of namespace lookups an attacker can cause with deeply nested declarations.
const MAX_NAMESPACES_IN_SCOPE: usize = 256;

/// Attributes must be separated by whitespace (`<a b="1"c="2"/>` is not XML).
fn check_attribute_separation(element: &str, raw: &str) -> Result<(), XmlError> {
    let mut quote: Option<char> = None;
    let mut just_closed = false;
    for c in raw.chars() {
        if just_closed && !c.is_whitespace() && c != '/' {
            return Err(XmlError::Syntax {
                position: 0,
                message: format!("attributes of <{element}> must be separated by whitespace"),
            });
        }
        just_closed = false;
        match quote {
            Some(q) if c == q => {
                quote = None;
                just_closed = true;
            }
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => {}
        }
    }
    Ok(())
}

/// A namespace-well-formed name: an NCName, or two joined by one colon.
fn check_qname(name: &str, prefix: &str, local: &str) -> Result<(), XmlError> {
    let ncname = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_alphabetic() || !c.is_ascii())
            && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.') || !c.is_ascii())
    };
    let valid = ncname(local) && (prefix.is_empty() && !name.starts_with(':') || ncname(prefix));
    if valid { Ok(()) } else { Err(XmlError::InvalidName { name: name.to_string() }) }
}

fn split_qname(name: &str) -> (&str, &str) {
    match name.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", name),
    }
}

/// Resolves the body of `&...;`: the five predefined entities and character references.
fn resolve_reference(reference: &str) -> Result<char, XmlError> {
    let c = match reference {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let Some(number) = reference.strip_prefix('#') else {
                return Err(XmlError::UnknownEntity { name: reference.to_string() });
            };
            let code = match number.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()
                }
                None if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) => number.parse::<u32>().ok(),
                _ => None,
            };
            code.and_then(char::from_u32)
                .filter(|c| is_xml_char(*c))
                .ok_or_else(|| XmlError::InvalidCharReference { reference: reference.to_string() })?
        }
    };
    Ok(c)
}
