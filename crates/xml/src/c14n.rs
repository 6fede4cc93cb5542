//! Exclusive XML Canonicalization 1.0, without comments
//! (<http://www.w3.org/2001/10/xml-exc-c14n#>), of one element's subtree, optionally leaving out
//! one descendant (the enveloped signature).

use crate::tree::{Document, NodeId, NodeKind};

/// The algorithm URI of exclusive canonicalization without comments.
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// What to canonicalize besides the apex element.
#[derive(Debug, Clone, Copy, Default)]
pub struct C14nOptions<'a> {
    /// A descendant left out with its subtree (the enveloped-signature transform).
    pub exclude: Option<NodeId>,
    /// The InclusiveNamespaces PrefixList: prefixes rendered as inclusive c14n would, with
    /// `#default` for the default namespace.
    pub inclusive_prefixes: &'a [&'a str],
}

/// Appends the canonical form of the subtree at `apex` to `out`.
pub fn canonicalize(doc: &Document, apex: NodeId, options: &C14nOptions<'_>, out: &mut Vec<u8>) {
    let mut c = Canonicalizer {
        doc,
        out,
        options,
        in_scope: Vec::with_capacity(16),
        rendered: Vec::with_capacity(16),
        frames: Vec::with_capacity(16),
        candidates: Vec::with_capacity(8),
        attrs: Vec::with_capacity(8),
    };
    c.collect_ancestor_scope(apex);
    c.run(apex);
}

/// Convenience form of [`canonicalize`] returning the bytes.
pub fn canonicalize_to_vec(doc: &Document, apex: NodeId, options: &C14nOptions<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    canonicalize(doc, apex, options, &mut out);
    out
}

struct Frame {
    in_scope_mark: usize,
    rendered_mark: usize,
}

struct Canonicalizer<'d, 'o, 'p> {
    doc: &'d Document,
    out: &'o mut Vec<u8>,
    options: &'p C14nOptions<'p>,
    /// Namespace bindings in scope, innermost last.
    in_scope: Vec<(&'d str, &'d str)>,
    /// Namespace declarations already written by output ancestors, innermost last.
    rendered: Vec<(&'d str, &'d str)>,
    frames: Vec<Frame>,
    candidates: Vec<(&'d str, &'d str)>,
    attrs: Vec<(&'d str, &'d str, &'d str, &'d str)>,
}

impl<'d> Canonicalizer<'d, '_, '_> {
    /// Bindings declared on the apex's ancestors are in scope for the apex even though the
    /// ancestors themselves are not output.
    fn collect_ancestor_scope(&mut self, apex: NodeId) {
        let mut chain = Vec::new();
        let mut cur = self.doc.parent_raw(apex);
        while let Some(id) = cur {
            chain.push(id);
            cur = self.doc.parent_raw(id);
        }
        for id in chain.into_iter().rev() {
            if let Some(e) = self.doc.element_data(id) {
                for d in self.doc.ns_decl_slice(e) {
                    self.in_scope.push((self.doc.s(d.prefix()), self.doc.s(d.uri())));
                }
            }
        }
    }

    fn lookup_in_scope(&self, prefix: &str) -> Option<&'d str> {
        self.in_scope.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| *u)
    }

    fn lookup_rendered(&self, prefix: &str) -> Option<&'d str> {
        match self.rendered.iter().rev().find(|(p, _)| *p == prefix) {
            Some((_, u)) => Some(u),
            // The empty default namespace counts as rendered at the top: no xmlns="" there.
            None if prefix.is_empty() => Some(""),
            None => None,
        }
    }

    /// Walks the subtree without recursion, so depth is bounded only by the parser's limits.
    fn run(&mut self, apex: NodeId) {
        let mut cur = apex;
        loop {
            if self.enter(cur) {
                if let Some(child) = self.first_included_child(cur) {
                    cur = child;
                    continue;
                }
                self.leave(cur);
            }
            loop {
                if cur == apex {
                    return;
                }
                if let Some(next) = self.next_included_sibling(cur) {
                    cur = next;
                    break;
                }
                match self.doc.parent_raw(cur) {
                    Some(parent) => {
                        cur = parent;
                        self.leave(cur);
                    }
                    None => return,
                }
            }
        }
    }

    fn first_included_child(&self, id: NodeId) -> Option<NodeId> {
        let mut child = self.doc.first_child_raw(id);
        while let Some(c) = child {
            if Some(c) != self.options.exclude {
                return Some(c);
            }
            child = self.doc.next_sibling_raw(c);
        }
        None
    }

    fn next_included_sibling(&self, id: NodeId) -> Option<NodeId> {
        let mut next = self.doc.next_sibling_raw(id);
        while let Some(n) = next {
            if Some(n) != self.options.exclude {
                return Some(n);
            }
            next = self.doc.next_sibling_raw(n);
        }
        None
    }

    /// Writes the start of a node; returns whether it is an element whose children follow.
    fn enter(&mut self, id: NodeId) -> bool {
        let doc = self.doc;
        match doc.kind(id) {
            Some(NodeKind::Text(t)) => {
                escape_text(doc.s(t), self.out);
                false
            }
            Some(NodeKind::Comment(_)) | None => false,
            Some(NodeKind::Element(e)) => {
                self.frames.push(Frame { in_scope_mark: self.in_scope.len(), rendered_mark: self.rendered.len() });
                for d in doc.ns_decl_slice(&e) {
                    self.in_scope.push((doc.s(d.prefix()), doc.s(d.uri())));
                }

                // Namespaces visibly utilized by the element or its attributes, plus the
                // inclusive prefix list, each rendered unless an output ancestor already did
                // with the same value.
                self.candidates.clear();
                let elem_prefix = doc.s(e.prefix());
                self.consider(elem_prefix);
                for a in doc.attr_slice(&e) {
                    let p = doc.s(a.prefix());
                    if !p.is_empty() {
                        self.consider(p);
                    }
                }
                for &p in self.options.inclusive_prefixes {
                    let p = if p == "#default" { "" } else { p };
                    // Only declared prefixes: ones merely listed are not namespace nodes.
                    self.consider_inclusive(p);
                }
                self.candidates.sort_unstable_by(|a, b| a.0.cmp(b.0));

                self.out.push(b'<');
                write_qname(elem_prefix, doc.s(e.local()), self.out);
                for i in 0..self.candidates.len() {
                    if let Some(&(p, u)) = self.candidates.get(i) {
                        self.rendered.push((p, u));
                        write_namespace(p, u, self.out);
                    }
                }

                self.attrs.clear();
                for a in doc.attr_slice(&e) {
                    self.attrs.push((doc.s(a.ns()), doc.s(a.local()), doc.s(a.prefix()), doc.s(a.value())));
                }
                self.attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
                for &(_, local, prefix, value) in &self.attrs {
                    self.out.push(b' ');
                    write_qname(prefix, local, self.out);
                    self.out.extend_from_slice(b"=\"");
                    escape_attr(value, self.out);
                    self.out.push(b'"');
                }
                self.out.push(b'>');
                true
            }
        }
    }

    fn consider(&mut self, prefix: &'d str) {
        if prefix == "xml" || self.candidates.iter().any(|(p, _)| *p == prefix) {
            return;
        }
        let uri = match self.lookup_in_scope(prefix) {
            Some(u) => u,
            None if prefix.is_empty() => "",
            None => return,
        };
        if self.lookup_rendered(prefix) != Some(uri) {
            self.candidates.push((prefix, uri));
        }
    }

    fn consider_inclusive(&mut self, prefix: &str) {
        if prefix == "xml" || self.candidates.iter().any(|(p, _)| *p == prefix) {
            return;
        }
        let Some((p, uri)) = self.in_scope.iter().rev().find(|(p, _)| *p == prefix).copied() else {
            return;
        };
        if self.lookup_rendered(p) != Some(uri) {
            self.candidates.push((p, uri));
        }
    }

    fn leave(&mut self, id: NodeId) {
        let doc = self.doc;
        if let Some(e) = doc.element_data(id) {
            self.out.extend_from_slice(b"</");
            write_qname(doc.s(e.prefix()), doc.s(e.local()), self.out);
            self.out.push(b'>');
            if let Some(f) = self.frames.pop() {
                self.in_scope.truncate(f.in_scope_mark);
                self.rendered.truncate(f.rendered_mark);
            }
        }
    }
}

/// ` xmlns="URI"` or ` xmlns:prefix="URI"`, for every writer. C14N 1.0 §2.3: namespace nodes are
/// processed like attribute nodes, so their values are escaped too (as xmlsec1 does).
pub(crate) fn write_namespace(prefix: &str, uri: &str, out: &mut Vec<u8>) {
    if prefix.is_empty() {
        out.extend_from_slice(b" xmlns=\"");
    } else {
        out.extend_from_slice(b" xmlns:");
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(b"=\"");
    }
    escape_attr(uri, out);
    out.push(b'"');
}

pub(crate) fn write_qname(prefix: &str, local: &str, out: &mut Vec<u8>) {
    if !prefix.is_empty() {
        out.extend_from_slice(prefix.as_bytes());
        out.push(b':');
    }
    out.extend_from_slice(local.as_bytes());
}

/// Text escaping of the canonical form: `&`, `<`, `>` and CR.
pub fn escape_text(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    // Most text has nothing to escape (names, base64): found out with two vector scans.
    if memchr::memchr3(b'&', b'<', b'>', bytes).is_none() && memchr::memchr(b'\r', bytes).is_none() {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or(&[]));
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or(&[]));
}

/// Attribute-value escaping of the canonical form: `&`, `<`, `"`, TAB, LF and CR.
pub fn escape_attr(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    if memchr::memchr3(b'&', b'<', b'"', bytes).is_none() && memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_none() {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or(&[]));
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or(&[]));
}
