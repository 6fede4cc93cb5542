//! The document tree: an arena of nodes whose strings all live in one buffer.
//!
//! One buffer and index ranges instead of a `String` per name and value keep parsing a
//! signed response to a handful of allocations, which matters because verification is
//! measured against the raw RSA verify rate.

use crate::error::XmlError;

/// Index of a node inside its [`Document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

const NONE: u32 = u32::MAX;

/// A range of the document's string buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct StrRef {
    start: u32,
    end: u32,
}

/// A range of the document's attribute or namespace-declaration table.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrData {
    prefix: StrRef,
    local: StrRef,
    ns: StrRef,
    value: StrRef,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct NsDeclData {
    prefix: StrRef,
    uri: StrRef,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ElementData {
    prefix: StrRef,
    local: StrRef,
    ns: StrRef,
    attrs: Span,
    ns_decls: Span,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum NodeKind {
    Element(ElementData),
    Text(StrRef),
    Comment(StrRef),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    parent: u32,
    first_child: u32,
    last_child: u32,
    prev: u32,
    next: u32,
    kind: NodeKind,
}

/// The XML namespace, bound to the `xml` prefix by definition.
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A parsed or built XML document. Always has exactly one root element.
#[derive(Debug, Clone)]
pub struct Document {
    strings: String,
    nodes: Vec<Node>,
    attrs: Vec<AttrData>,
    ns_decls: Vec<NsDeclData>,
    root: u32,
}

/// Names of a new element or attribute: prefix (empty for none), local name, namespace URI
/// (empty for none).
#[derive(Debug, Clone, Copy)]
pub struct QualifiedName<'a> {
    pub prefix: &'a str,
    pub local: &'a str,
    pub ns: &'a str,
}

impl<'a> QualifiedName<'a> {
    pub fn new(prefix: &'a str, local: &'a str, ns: &'a str) -> Self {
        QualifiedName { prefix, local, ns }
    }
    /// A name in no namespace, without prefix (the usual case for attributes).
    pub fn plain(local: &'a str) -> Self {
        QualifiedName { prefix: "", local, ns: "" }
    }
}

impl Document {
    /// A new document whose root element has the given name. Namespace declarations are not
    /// implied: declare them with [`Document::declare_namespace`].
    pub fn new(root: QualifiedName<'_>) -> Self {
        let mut doc = Document::with_capacity(256, 16);
        let id = doc.create_element(root);
        doc.root = id.0;
        doc
    }

    pub(crate) fn with_capacity(bytes: usize, nodes: usize) -> Self {
        Document {
            strings: String::with_capacity(bytes),
            nodes: Vec::with_capacity(nodes),
            attrs: Vec::new(),
            ns_decls: Vec::new(),
            root: NONE,
        }
    }

    pub(crate) fn set_root(&mut self, id: NodeId) {
        self.root = id.0;
    }

    pub(crate) fn has_root(&self) -> bool {
        self.root != NONE
    }

    pub fn root(&self) -> NodeId {
        NodeId(self.root)
    }

    /// The root element.
    pub fn root_element(&self) -> Element<'_> {
        Element { doc: self, id: self.root() }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn intern(&mut self, s: &str) -> StrRef {
        let start = self.strings.len() as u32;
        self.strings.push_str(s);
        StrRef { start, end: self.strings.len() as u32 }
    }

    /// Appends to the string that ends the buffer; used to merge adjacent text chunks.
    pub(crate) fn extend_last(&mut self, r: StrRef, s: &str) -> StrRef {
        if r.end as usize == self.strings.len() {
            self.strings.push_str(s);
            StrRef { start: r.start, end: self.strings.len() as u32 }
        } else {
            let joined = format!("{}{}", self.s(r), s);
            self.intern(&joined)
        }
    }

    pub(crate) fn s(&self, r: StrRef) -> &str {
        self.strings.get(r.start as usize..r.end as usize).unwrap_or("")
    }

    fn node(&self, id: u32) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn node_mut(&mut self, id: u32) -> Option<&mut Node> {
        self.nodes.get_mut(id as usize)
    }

    fn push_node(&mut self, kind: NodeKind) -> NodeId {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node { parent: NONE, first_child: NONE, last_child: NONE, prev: NONE, next: NONE, kind });
        NodeId(id)
    }

    pub(crate) fn element_data(&self, id: NodeId) -> Option<&ElementData> {
        match &self.node(id.0)?.kind {
            NodeKind::Element(e) => Some(e),
            _ => None,
        }
    }

    fn element_data_mut(&mut self, id: NodeId) -> Result<&mut ElementData, XmlError> {
        match self.node_mut(id.0).map(|n| &mut n.kind) {
            Some(NodeKind::Element(e)) => Ok(e),
            _ => Err(XmlError::NotAnElement),
        }
    }

    pub(crate) fn kind(&self, id: NodeId) -> Option<NodeKind> {
        self.node(id.0).map(|n| n.kind)
    }

    /// Creates a detached element; attach it with [`Document::append_child`] or
    /// [`Document::insert_after`].
    pub fn create_element(&mut self, name: QualifiedName<'_>) -> NodeId {
        let prefix = self.intern(name.prefix);
        let local = self.intern(name.local);
        let ns = self.intern(name.ns);
        self.push_node(NodeKind::Element(ElementData {
            prefix,
            local,
            ns,
            attrs: Span { start: self.attrs.len() as u32, len: 0 },
            ns_decls: Span { start: self.ns_decls.len() as u32, len: 0 },
        }))
    }

    pub(crate) fn create_element_refs(&mut self, prefix: StrRef, local: StrRef, ns: StrRef) -> NodeId {
        self.push_node(NodeKind::Element(ElementData {
            prefix,
            local,
            ns,
            attrs: Span { start: self.attrs.len() as u32, len: 0 },
            ns_decls: Span { start: self.ns_decls.len() as u32, len: 0 },
        }))
    }

    pub fn create_text(&mut self, text: &str) -> NodeId {
        let r = self.intern(text);
        self.push_node(NodeKind::Text(r))
    }

    pub(crate) fn create_text_ref(&mut self, r: StrRef) -> NodeId {
        self.push_node(NodeKind::Text(r))
    }

    pub(crate) fn create_comment_ref(&mut self, r: StrRef) -> NodeId {
        self.push_node(NodeKind::Comment(r))
    }

    /// Creates an element and appends it as the last child of `parent`.
    pub fn append_element(&mut self, parent: NodeId, name: QualifiedName<'_>) -> NodeId {
        let id = self.create_element(name);
        self.append_child(parent, id);
        id
    }

    /// Appends a text node as the last child of `parent`.
    pub fn append_text(&mut self, parent: NodeId, text: &str) -> NodeId {
        let id = self.create_text(text);
        self.append_child(parent, id);
        id
    }

    /// Appends an element holding only `text`.
    pub fn append_text_element(&mut self, parent: NodeId, name: QualifiedName<'_>, text: &str) -> NodeId {
        let id = self.append_element(parent, name);
        self.append_text(id, text);
        id
    }

    /// Makes a detached `child` the last child of `parent`.
    pub fn append_child(&mut self, parent: NodeId, child: NodeId) {
        let last = match self.node(parent.0) {
            Some(p) => p.last_child,
            None => return,
        };
        if let Some(c) = self.node_mut(child.0) {
            c.parent = parent.0;
            c.prev = last;
            c.next = NONE;
        }
        if let Some(l) = self.node_mut(last) {
            l.next = child.0;
        }
        if let Some(p) = self.node_mut(parent.0) {
            if p.first_child == NONE {
                p.first_child = child.0;
            }
            p.last_child = child.0;
        }
    }

    /// Makes a detached `node` the first child of `parent`.
    pub fn prepend_child(&mut self, parent: NodeId, node: NodeId) {
        match self.node(parent.0).map(|p| p.first_child) {
            Some(NONE) => self.append_child(parent, node),
            Some(first) => self.insert_before(NodeId(first), node),
            None => {}
        }
    }

    /// Inserts a detached `node` right after `sibling`.
    pub fn insert_after(&mut self, sibling: NodeId, node: NodeId) {
        let (parent, next) = match self.node(sibling.0) {
            Some(s) => (s.parent, s.next),
            None => return,
        };
        if let Some(n) = self.node_mut(node.0) {
            n.parent = parent;
            n.prev = sibling.0;
            n.next = next;
        }
        if let Some(s) = self.node_mut(sibling.0) {
            s.next = node.0;
        }
        if next == NONE {
            if let Some(p) = self.node_mut(parent) {
                p.last_child = node.0;
            }
        } else if let Some(n) = self.node_mut(next) {
            n.prev = node.0;
        }
    }

    /// Inserts a detached `node` right before `sibling`.
    pub fn insert_before(&mut self, sibling: NodeId, node: NodeId) {
        let (parent, prev) = match self.node(sibling.0) {
            Some(s) => (s.parent, s.prev),
            None => return,
        };
        if let Some(n) = self.node_mut(node.0) {
            n.parent = parent;
            n.prev = prev;
            n.next = sibling.0;
        }
        if let Some(s) = self.node_mut(sibling.0) {
            s.prev = node.0;
        }
        if prev == NONE {
            if let Some(p) = self.node_mut(parent) {
                p.first_child = node.0;
            }
        } else if let Some(p) = self.node_mut(prev) {
            p.next = node.0;
        }
    }

    /// Detaches `node` (and its subtree) from its parent. The nodes stay in the arena.
    pub fn detach(&mut self, node: NodeId) {
        let (parent, prev, next) = match self.node(node.0) {
            Some(n) => (n.parent, n.prev, n.next),
            None => return,
        };
        if prev == NONE {
            if let Some(p) = self.node_mut(parent) {
                p.first_child = next;
            }
        } else if let Some(p) = self.node_mut(prev) {
            p.next = next;
        }
        if next == NONE {
            if let Some(p) = self.node_mut(parent) {
                p.last_child = prev;
            }
        } else if let Some(n) = self.node_mut(next) {
            n.prev = prev;
        }
        if let Some(n) = self.node_mut(node.0) {
            n.parent = NONE;
            n.prev = NONE;
            n.next = NONE;
        }
    }

    /// Sets (or replaces) an attribute.
    pub fn set_attribute(&mut self, element: NodeId, name: QualifiedName<'_>, value: &str) -> Result<(), XmlError> {
        let span = self.element_data_mut(element)?.attrs;
        let existing = self
            .attrs
            .get(span.range())
            .and_then(|attrs| attrs.iter().position(|a| self.s(a.local) == name.local && self.s(a.ns) == name.ns));
        let value = self.intern(value);
        if let Some(i) = existing {
            if let Some(a) = self.attrs.get_mut(span.start as usize + i) {
                a.value = value;
            }
            return Ok(());
        }
        let prefix = self.intern(name.prefix);
        let local = self.intern(name.local);
        let ns = self.intern(name.ns);
        self.push_attr(element, AttrData { prefix, local, ns, value })
    }

    pub(crate) fn push_attr_refs(
        &mut self,
        element: NodeId,
        prefix: StrRef,
        local: StrRef,
        ns: StrRef,
        value: StrRef,
    ) -> Result<(), XmlError> {
        self.push_attr(element, AttrData { prefix, local, ns, value })
    }

    /// Appends to an element's attribute span, moving the span to the end of the table when
    /// another element's attributes were added after it (rare: only when building).
    fn push_attr(&mut self, element: NodeId, attr: AttrData) -> Result<(), XmlError> {
        let table_len = self.attrs.len() as u32;
        let span = self.element_data_mut(element)?.attrs;
        if span.start + span.len != table_len {
            let moved: Vec<AttrData> = self.attrs.get(span.range()).map(<[AttrData]>::to_vec).unwrap_or_default();
            self.attrs.extend(moved);
            self.element_data_mut(element)?.attrs.start = table_len;
        }
        self.attrs.push(attr);
        self.element_data_mut(element)?.attrs.len += 1;
        Ok(())
    }

    /// Declares a namespace on an element (`xmlns:prefix="uri"`, or `xmlns="uri"` for an empty
    /// prefix). A declaration of the same prefix on that element is replaced.
    pub fn declare_namespace(&mut self, element: NodeId, prefix: &str, uri: &str) -> Result<(), XmlError> {
        let span = self.element_data_mut(element)?.ns_decls;
        let existing =
            self.ns_decls.get(span.range()).and_then(|decls| decls.iter().position(|d| self.s(d.prefix) == prefix));
        let uri = self.intern(uri);
        if let Some(i) = existing {
            if let Some(d) = self.ns_decls.get_mut(span.start as usize + i) {
                d.uri = uri;
            }
            return Ok(());
        }
        let prefix = self.intern(prefix);
        self.push_ns_decl(element, NsDeclData { prefix, uri })
    }

    pub(crate) fn push_ns_decl_refs(&mut self, element: NodeId, prefix: StrRef, uri: StrRef) -> Result<(), XmlError> {
        self.push_ns_decl(element, NsDeclData { prefix, uri })
    }

    fn push_ns_decl(&mut self, element: NodeId, decl: NsDeclData) -> Result<(), XmlError> {
        let table_len = self.ns_decls.len() as u32;
        let span = self.element_data_mut(element)?.ns_decls;
        if span.start + span.len != table_len {
            let moved: Vec<NsDeclData> =
                self.ns_decls.get(span.range()).map(<[NsDeclData]>::to_vec).unwrap_or_default();
            self.ns_decls.extend(moved);
            self.element_data_mut(element)?.ns_decls.start = table_len;
        }
        self.ns_decls.push(decl);
        self.element_data_mut(element)?.ns_decls.len += 1;
        Ok(())
    }

    /// Copies the subtree at `node` of `other` into this document, detached.
    pub fn import(&mut self, other: &Document, node: NodeId) -> Result<NodeId, XmlError> {
        let copy = match other.kind(node) {
            Some(NodeKind::Element(e)) => {
                let prefix = self.intern(other.s(e.prefix));
                let local = self.intern(other.s(e.local));
                let ns = self.intern(other.s(e.ns));
                let id = self.create_element_refs(prefix, local, ns);
                for d in other.ns_decls.get(e.ns_decls.range()).unwrap_or(&[]) {
                    let p = self.intern(other.s(d.prefix));
                    let u = self.intern(other.s(d.uri));
                    self.push_ns_decl(id, NsDeclData { prefix: p, uri: u })?;
                }
                for a in other.attrs.get(e.attrs.range()).unwrap_or(&[]) {
                    let attr = AttrData {
                        prefix: self.intern(other.s(a.prefix)),
                        local: self.intern(other.s(a.local)),
                        ns: self.intern(other.s(a.ns)),
                        value: self.intern(other.s(a.value)),
                    };
                    self.push_attr(id, attr)?;
                }
                let mut child = other.node(node.0).map_or(NONE, |n| n.first_child);
                while child != NONE {
                    let c = self.import(other, NodeId(child))?;
                    self.append_child(id, c);
                    child = other.node(child).map_or(NONE, |n| n.next);
                }
                id
            }
            Some(NodeKind::Text(t)) => self.create_text(other.s(t)),
            Some(NodeKind::Comment(t)) => {
                let r = self.intern(other.s(t));
                self.create_comment_ref(r)
            }
            None => return Err(XmlError::NotAnElement),
        };
        Ok(copy)
    }

    /// The element with this id, if the node is an element.
    pub fn element(&self, id: NodeId) -> Option<Element<'_>> {
        self.element_data(id).map(|_| Element { doc: self, id })
    }

    /// Every element of the document in document order.
    pub fn descendants(&self) -> Descendants<'_> {
        Descendants { doc: self, apex: self.root, next: self.root }
    }

    pub(crate) fn first_child_raw(&self, id: NodeId) -> Option<NodeId> {
        self.node(id.0).map(|n| n.first_child).filter(|&c| c != NONE).map(NodeId)
    }

    pub(crate) fn next_sibling_raw(&self, id: NodeId) -> Option<NodeId> {
        self.node(id.0).map(|n| n.next).filter(|&c| c != NONE).map(NodeId)
    }

    pub(crate) fn parent_raw(&self, id: NodeId) -> Option<NodeId> {
        self.node(id.0).map(|n| n.parent).filter(|&c| c != NONE).map(NodeId)
    }

    pub(crate) fn attr_slice(&self, e: &ElementData) -> &[AttrData] {
        self.attrs.get(e.attrs.range()).unwrap_or(&[])
    }

    pub(crate) fn ns_decl_slice(&self, e: &ElementData) -> &[NsDeclData] {
        self.ns_decls.get(e.ns_decls.range()).unwrap_or(&[])
    }

    /// Is `node` inside the subtree of `ancestor` (or `ancestor` itself)?
    pub fn is_within(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut cur = Some(node);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.parent_raw(c);
        }
        false
    }
}

impl ElementData {
    pub(crate) fn prefix(&self) -> StrRef {
        self.prefix
    }
    pub(crate) fn local(&self) -> StrRef {
        self.local
    }
}

impl AttrData {
    pub(crate) fn prefix(&self) -> StrRef {
        self.prefix
    }
    pub(crate) fn local(&self) -> StrRef {
        self.local
    }
    pub(crate) fn ns(&self) -> StrRef {
        self.ns
    }
    pub(crate) fn value(&self) -> StrRef {
        self.value
    }
}

impl NsDeclData {
    pub(crate) fn prefix(&self) -> StrRef {
        self.prefix
    }
    pub(crate) fn uri(&self) -> StrRef {
        self.uri
    }
}

/// Depth-first iterator over the elements under (and including) an apex.
pub struct Descendants<'d> {
    doc: &'d Document,
    apex: u32,
    next: u32,
}

impl<'d> Iterator for Descendants<'d> {
    type Item = Element<'d>;
    fn next(&mut self) -> Option<Element<'d>> {
        loop {
            if self.next == NONE {
                return None;
            }
            let current = self.next;
            let node = self.doc.node(current)?;
            // Advance: first child, else next sibling, else climb until a sibling exists.
            self.next = if node.first_child != NONE {
                node.first_child
            } else {
                let mut cur = current;
                loop {
                    if cur == self.apex {
                        break NONE;
                    }
                    let n = self.doc.node(cur)?;
                    if n.next != NONE {
                        break n.next;
                    }
                    cur = n.parent;
                    if cur == NONE {
                        break NONE;
                    }
                }
            };
            if matches!(node.kind, NodeKind::Element(_)) {
                return Some(Element { doc: self.doc, id: NodeId(current) });
            }
        }
    }
}

/// A read handle on one element.
#[derive(Clone, Copy)]
pub struct Element<'d> {
    doc: &'d Document,
    id: NodeId,
}

impl std::fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.qualified_name())
    }
}

/// One child of an element.
#[derive(Debug, Clone, Copy)]
pub enum Child<'d> {
    Element(Element<'d>),
    Text(&'d str),
    Comment(&'d str),
}

/// One attribute of an element.
#[derive(Debug, Clone, Copy)]
pub struct Attribute<'d> {
    pub prefix: &'d str,
    pub local: &'d str,
    pub ns: &'d str,
    pub value: &'d str,
}

impl<'d> Element<'d> {
    fn data(&self) -> Option<&'d ElementData> {
        self.doc.element_data(self.id)
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn document(&self) -> &'d Document {
        self.doc
    }

    pub fn local_name(&self) -> &'d str {
        self.data().map_or("", |e| self.doc.s(e.local))
    }

    pub fn prefix(&self) -> &'d str {
        self.data().map_or("", |e| self.doc.s(e.prefix))
    }

    /// The namespace URI the element's prefix resolved to ("" for none).
    pub fn namespace(&self) -> &'d str {
        self.data().map_or("", |e| self.doc.s(e.ns))
    }

    /// `prefix:local`, or `local` without a prefix, for messages.
    pub fn qualified_name(&self) -> String {
        let p = self.prefix();
        if p.is_empty() { self.local_name().to_string() } else { format!("{p}:{}", self.local_name()) }
    }

    /// Is this the element `{ns}local`?
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local_name() == local && self.namespace() == ns
    }

    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'d>> + 'd {
        let doc = self.doc;
        self.data().map(|e| doc.attr_slice(e)).unwrap_or(&[]).iter().map(move |a| Attribute {
            prefix: doc.s(a.prefix),
            local: doc.s(a.local),
            ns: doc.s(a.ns),
            value: doc.s(a.value),
        })
    }

    /// The value of the attribute `local` in no namespace (how SAML attributes are written).
    pub fn attr(&self, local: &str) -> Option<&'d str> {
        self.attr_ns("", local)
    }

    /// The value of the attribute `{ns}local`.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&'d str> {
        let doc = self.doc;
        self.data().and_then(|e| {
            doc.attr_slice(e).iter().find(|a| doc.s(a.local) == local && doc.s(a.ns) == ns).map(|a| doc.s(a.value))
        })
    }

    /// Namespace declarations written on this element, as (prefix, uri); "" is the default.
    pub fn namespace_declarations(&self) -> impl Iterator<Item = (&'d str, &'d str)> + 'd {
        let doc = self.doc;
        self.data().map(|e| doc.ns_decl_slice(e)).unwrap_or(&[]).iter().map(move |d| (doc.s(d.prefix), doc.s(d.uri)))
    }

    /// The URI bound to `prefix` ("" for the default namespace) at this element.
    pub fn lookup_namespace(&self, prefix: &str) -> Option<&'d str> {
        let mut cur = Some(*self);
        while let Some(e) = cur {
            if let Some((_, uri)) = e.namespace_declarations().find(|(p, _)| *p == prefix) {
                return Some(uri);
            }
            cur = e.parent();
        }
        match prefix {
            "xml" => Some(XML_NS),
            _ => None,
        }
    }

    pub fn parent(&self) -> Option<Element<'d>> {
        self.doc.parent_raw(self.id).and_then(|p| self.doc.element(p))
    }

    pub fn children(&self) -> Children<'d> {
        Children { doc: self.doc, next: self.doc.first_child_raw(self.id) }
    }

    pub fn child_elements(&self) -> impl Iterator<Item = Element<'d>> + 'd {
        self.children().filter_map(|c| match c {
            Child::Element(e) => Some(e),
            _ => None,
        })
    }

    /// Child elements named `{ns}local`.
    pub fn children_named<'a>(&self, ns: &'a str, local: &'a str) -> impl Iterator<Item = Element<'d>> + 'a
    where
        'd: 'a,
    {
        self.child_elements().filter(move |e| e.is(ns, local))
    }

    /// The first child element named `{ns}local`.
    pub fn child(&self, ns: &str, local: &str) -> Option<Element<'d>> {
        self.child_elements().find(|e| e.is(ns, local))
    }

    /// Every element in this subtree, this one first, in document order.
    pub fn descendants(&self) -> Descendants<'d> {
        Descendants { doc: self.doc, apex: self.id.0, next: self.id.0 }
    }

    /// The element's text, which must be its only content: a comment or child element inside
    /// is an error rather than something to skip, because skipping is what lets two parsers read
    /// different values from one signed document.
    pub fn text(&self) -> Result<&'d str, XmlError> {
        let mut found: Option<&'d str> = None;
        for child in self.children() {
            match child {
                Child::Text(t) => {
                    // The parser merges adjacent text, so a second text node can only follow
                    // something that split it, which is rejected below; built trees may still
                    // hold two, and those are joined by refusing rather than guessing.
                    if found.is_some() {
                        return Err(XmlError::ElementInValue {
                            element: self.qualified_name(),
                            child: "#text".to_string(),
                        });
                    }
                    found = Some(t);
                }
                Child::Comment(_) => return Err(XmlError::CommentInValue { element: self.qualified_name() }),
                Child::Element(e) => {
                    return Err(XmlError::ElementInValue { element: self.qualified_name(), child: e.qualified_name() });
                }
            }
        }
        Ok(found.unwrap_or(""))
    }

    /// Text of the element with surrounding XML whitespace removed.
    pub fn trimmed_text(&self) -> Result<&'d str, XmlError> {
        self.text().map(|t| t.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r')))
    }
}

/// Iterator over the children of an element.
pub struct Children<'d> {
    doc: &'d Document,
    next: Option<NodeId>,
}

impl<'d> Iterator for Children<'d> {
    type Item = Child<'d>;
    fn next(&mut self) -> Option<Child<'d>> {
        let id = self.next?;
        self.next = self.doc.next_sibling_raw(id);
        Some(match self.doc.kind(id)? {
            NodeKind::Element(_) => Child::Element(Element { doc: self.doc, id }),
            NodeKind::Text(t) => Child::Text(self.doc.s(t)),
            NodeKind::Comment(t) => Child::Comment(self.doc.s(t)),
        })
    }
}
