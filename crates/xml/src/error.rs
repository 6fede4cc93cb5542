use thiserror::Error;

/// Everything that makes a document unacceptable. Each variant names the rule or limit that was
/// broken, so an operator can tell an attack from a misconfigured peer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    #[error("document is {actual} bytes, over the limit of {limit} bytes (Limits::max_bytes)")]
    TooLarge { limit: usize, actual: usize },
    #[error("elements are nested deeper than {limit} levels (Limits::max_depth)")]
    TooDeep { limit: usize },
    #[error("document has more than {limit} nodes (Limits::max_nodes)")]
    TooManyNodes { limit: usize },
    #[error("element <{element}> has more than {limit} attributes (Limits::max_attributes)")]
    TooManyAttributes { element: String, limit: usize },
    #[error("document is not valid UTF-8 (at byte {position})")]
    NotUtf8 { position: usize },
    #[error("unsupported XML declaration: {0}; only version 1.0 in UTF-8 is accepted")]
    UnsupportedDeclaration(String),
    #[error("DOCTYPE / DTD declarations are not allowed (they enable entity-expansion and external-entity attacks)")]
    Doctype,
    #[error("processing instructions are not allowed (found <?{target} ...?>)")]
    ProcessingInstruction { target: String },
    #[error(
        "entity reference &{name}; is not allowed; only &lt; &gt; &amp; &quot; &apos; and character references are"
    )]
    UnknownEntity { name: String },
    #[error("invalid character reference &{reference};")]
    InvalidCharReference { reference: String },
    #[error("character U+{code:04X} is not allowed in XML")]
    InvalidCharacter { code: u32 },
    #[error("namespace prefix \"{prefix}\" is used but not declared")]
    UndeclaredPrefix { prefix: String },
    #[error("\"{name}\" is not a valid XML name")]
    InvalidName { name: String },
    #[error("invalid namespace declaration: {0}")]
    InvalidNamespaceDeclaration(String),
    #[error("attribute \"{name}\" appears twice on <{element}>")]
    DuplicateAttribute { element: String, name: String },
    #[error("'<' is not allowed inside the value of attribute \"{name}\"")]
    LessThanInAttribute { name: String },
    #[error("document has no root element")]
    NoRootElement,
    #[error("content after the root element: {0}")]
    ContentAfterRoot(String),
    #[error("text outside the root element")]
    TextOutsideRoot,
    #[error("malformed XML at byte {position}: {message}")]
    Syntax { position: u64, message: String },
    #[error(
        "<{element}> must contain only text, but it contains a comment (comments inside identity values are rejected: they let parsers disagree on the value)"
    )]
    CommentInValue { element: String },
    #[error("<{element}> must contain only text, but it contains the element <{child}>")]
    ElementInValue { element: String, child: String },
    #[error("node is not an element")]
    NotAnElement,
}
