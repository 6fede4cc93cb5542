//! A hardened XML layer for SAML: a namespace-aware tree that refuses DTDs, custom entities and
//! processing instructions and bounds what a document may hold; exclusive canonicalization; and a
//! writer whose output parses back to the same tree.

mod c14n;
mod canonical_writer;
mod error;
mod parse;
mod tree;
mod write;

pub use c14n::{C14nOptions, EXC_C14N, canonicalize, canonicalize_to_vec, escape_attr, escape_text};
pub use canonical_writer::CanonicalWriter;
pub use error::XmlError;
pub use parse::{Limits, parse, parse_with_limits};
pub use tree::{Attribute, Child, Children, Descendants, Document, Element, NodeId, QualifiedName, XML_NS};
pub use write::{XML_DECLARATION, element_to_xml, to_pretty_xml, to_xml};
