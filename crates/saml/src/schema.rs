//! The structure of a Response as the SAML 2.0 schemas define it (saml-schema-protocol-2.0.xsd
//! and saml-schema-assertion-2.0.xsd): which children each element an SP reads may have, how
//! often and in which order. What the schema does not allow is refused rather than skipped — an
//! `Assertion` in a near-miss namespace beside the signed one, an unknown child of `Subject` —
//! since content a consumer skips is content another consumer may read.
//!
//! Where the schema leaves content open (`xs:any` in `samlp:Extensions`, `saml:Advice`,
//! `saml:SubjectConfirmationData`, `samlp:StatusDetail`, and the `anyType` of
//! `saml:AttributeValue` and `saml:AuthnContextDecl`) it stays open, and so do elements whose
//! type an `xsi:type` names (`saml:Condition`, `saml:Statement`, `saml:BaseID`). Elements of the
//! schemas met inside open content are checked too, as the schema's lax processing would. XInclude
//! is refused anywhere, open content included: nothing here processes it, and a consumer that did
//! would read what no signature covers.

use crossfed_xml::{Document, Element};

use crate::ns;

/// The prefixes the errors use for the schemas' namespaces.
const LEGEND: &str = "saml = urn:oasis:names:tc:SAML:2.0:assertion, samlp = urn:oasis:names:tc:SAML:2.0:protocol, \
                      ds = http://www.w3.org/2000/09/xmldsig#";

/// How a Response departs from the SAML 2.0 schemas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error(
        "<{found}> in namespace {namespace:?} is not allowed in <{parent}> here; the SAML 2.0 schema expects {expected} ({LEGEND})"
    )]
    UnexpectedElement { found: String, namespace: String, parent: String, expected: String },
    #[error("<{parent}> ends without {expected}, which the SAML 2.0 schema requires ({LEGEND})")]
    MissingElement { parent: String, expected: String },
    #[error(
        "XInclude element <{found}> (namespace {namespace:?}) in <{parent}>; expected none: XInclude is refused in SAML messages, never processed"
    )]
    XInclude { found: String, namespace: String, parent: String },
}

/// An element name of the schemas, with the prefix errors show it with.
#[derive(Debug, Clone, Copy)]
struct Name {
    prefix: &'static str,
    ns: &'static str,
    local: &'static str,
}

impl Name {
    fn matches(&self, e: &Element<'_>) -> bool {
        e.is(self.ns, self.local)
    }

    fn shown(&self) -> String {
        format!("{}:{}", self.prefix, self.local)
    }
}

const fn saml(local: &'static str) -> Name {
    Name { prefix: "saml", ns: ns::ASSERTION, local }
}

const fn samlp(local: &'static str) -> Name {
    Name { prefix: "samlp", ns: ns::PROTOCOL, local }
}

const fn ds(local: &'static str) -> Name {
    Name { prefix: "ds", ns: ns::DSIG, local }
}

const UNBOUNDED: usize = usize::MAX;

/// One step of a sequence: any of `names`, from `min` to `max` times in a row.
#[derive(Debug)]
struct Particle {
    names: &'static [Name],
    min: usize,
    max: usize,
}

const fn one(names: &'static [Name]) -> Particle {
    Particle { names, min: 1, max: 1 }
}

const fn optional(names: &'static [Name]) -> Particle {
    Particle { names, min: 0, max: 1 }
}

const fn any_number(names: &'static [Name]) -> Particle {
    Particle { names, min: 0, max: UNBOUNDED }
}

const fn one_or_more(names: &'static [Name]) -> Particle {
    Particle { names, min: 1, max: UNBOUNDED }
}

/// The content of an element: a sequence of particles whose names are disjoint, so a child
/// matches at most one of them. `one_of_first` > 0 says at least one of the first that many
/// particles must occur, which is how the schemas' two choice groups (`Subject`: an identifier,
/// subject confirmations or both; `AuthnContext`: a class reference, a declaration or both)
/// read as a sequence.
#[derive(Debug)]
struct Model {
    element: Name,
    content: &'static [Particle],
    one_of_first: usize,
}

const fn model(element: Name, content: &'static [Particle]) -> Model {
    Model { element, content, one_of_first: 0 }
}

/// An element with text content, or none: no child elements.
const fn simple(element: Name) -> Model {
    model(element, &[])
}

const IDENTIFIERS: &[Name] = &[saml("BaseID"), saml("NameID"), saml("EncryptedID")];
const ASSERTIONS: &[Name] = &[saml("Assertion"), saml("EncryptedAssertion")];
const STATEMENTS: &[Name] =
    &[saml("Statement"), saml("AuthnStatement"), saml("AuthzDecisionStatement"), saml("AttributeStatement")];
const CONDITIONS: &[Name] =
    &[saml("Condition"), saml("AudienceRestriction"), saml("OneTimeUse"), saml("ProxyRestriction")];
const DECLARATIONS: &[Name] = &[saml("AuthnContextDecl"), saml("AuthnContextDeclRef")];
const EVIDENCE: &[Name] =
    &[saml("AssertionIDRef"), saml("AssertionURIRef"), saml("Assertion"), saml("EncryptedAssertion")];

const MODELS: &[Model] = &[
    model(
        samlp("Response"),
        &[
            optional(&[saml("Issuer")]),
            optional(&[ds("Signature")]),
            optional(&[samlp("Extensions")]),
            one(&[samlp("Status")]),
            any_number(ASSERTIONS),
        ],
    ),
    model(
        samlp("Status"),
        &[one(&[samlp("StatusCode")]), optional(&[samlp("StatusMessage")]), optional(&[samlp("StatusDetail")])],
    ),
    model(samlp("StatusCode"), &[optional(&[samlp("StatusCode")])]),
    simple(samlp("StatusMessage")),
    model(
        saml("Assertion"),
        &[
            one(&[saml("Issuer")]),
            optional(&[ds("Signature")]),
            optional(&[saml("Subject")]),
            optional(&[saml("Conditions")]),
            optional(&[saml("Advice")]),
            any_number(STATEMENTS),
        ],
    ),
    simple(saml("Issuer")),
    simple(saml("NameID")),
    Model {
        element: saml("Subject"),
        content: &[optional(IDENTIFIERS), any_number(&[saml("SubjectConfirmation")])],
        one_of_first: 2,
    },
    model(saml("SubjectConfirmation"), &[optional(IDENTIFIERS), optional(&[saml("SubjectConfirmationData")])]),
    model(saml("Conditions"), &[any_number(CONDITIONS)]),
    model(saml("AudienceRestriction"), &[one_or_more(&[saml("Audience")])]),
    model(saml("ProxyRestriction"), &[any_number(&[saml("Audience")])]),
    simple(saml("Audience")),
    simple(saml("OneTimeUse")),
    model(saml("AuthnStatement"), &[optional(&[saml("SubjectLocality")]), one(&[saml("AuthnContext")])]),
    simple(saml("SubjectLocality")),
    Model {
        element: saml("AuthnContext"),
        content: &[
            optional(&[saml("AuthnContextClassRef")]),
            optional(DECLARATIONS),
            any_number(&[saml("AuthenticatingAuthority")]),
        ],
        one_of_first: 2,
    },
    simple(saml("AuthnContextClassRef")),
    simple(saml("AuthnContextDeclRef")),
    simple(saml("AuthenticatingAuthority")),
    model(saml("AttributeStatement"), &[one_or_more(&[saml("Attribute"), saml("EncryptedAttribute")])]),
    model(saml("Attribute"), &[any_number(&[saml("AttributeValue")])]),
    model(saml("AuthzDecisionStatement"), &[one_or_more(&[saml("Action")]), optional(&[saml("Evidence")])]),
    simple(saml("Action")),
    model(saml("Evidence"), &[one_or_more(EVIDENCE)]),
    simple(saml("AssertionIDRef")),
    simple(saml("AssertionURIRef")),
];

/// Refuses XInclude anywhere in `doc`, then checks every element the schemas define against
/// its model.
pub(crate) fn check_response(doc: &Document) -> Result<(), SchemaError> {
    doc.descendants().try_for_each(|e| refuse_xinclude(&e))?;
    let defined = |e: &Element<'_>| matches!(e.namespace(), ns::ASSERTION | ns::PROTOCOL);
    for element in doc.descendants().filter(defined) {
        if let Some(model) = MODELS.iter().find(|m| m.element.matches(&element)) {
            check_children(&element, model)?;
        }
    }
    Ok(())
}

fn refuse_xinclude(element: &Element<'_>) -> Result<(), SchemaError> {
    if ![ns::XINCLUDE, ns::XINCLUDE_DRAFT].contains(&element.namespace()) {
        return Ok(());
    }
    Err(SchemaError::XInclude {
        found: element.qualified_name(),
        namespace: element.namespace().to_string(),
        parent: element.parent().map_or_else(String::new, |p| p.qualified_name()),
    })
}

fn check_children(element: &Element<'_>, model: &Model) -> Result<(), SchemaError> {
    let mut at = Position::default();
    for child in element.child_elements() {
        at = at.accept(model, &child).ok_or_else(|| SchemaError::UnexpectedElement {
            found: child.qualified_name(),
            namespace: child.namespace().to_string(),
            parent: element.qualified_name(),
            expected: at.expected(model),
        })?;
    }
    match at.missing(model) {
        Some(expected) => Err(SchemaError::MissingElement { parent: element.qualified_name(), expected }),
        None => Ok(()),
    }
}

/// Where in a model the children read so far have led: the particle the last child matched and
/// how often it matched in a row, and whether one of the first `one_of_first` particles occurred.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    particle: usize,
    count: usize,
    leading_seen: bool,
}

impl Position {
    /// How often the particle at `index` has matched so far.
    fn count_at(&self, index: usize) -> usize {
        if index == self.particle { self.count } else { 0 }
    }

    /// The position after `child`, or None if the model does not allow it here.
    fn accept(mut self, model: &Model, child: &Element<'_>) -> Option<Position> {
        loop {
            let particle = model.content.get(self.particle)?;
            if self.count < particle.max && particle.names.iter().any(|n| n.matches(child)) {
                self.count += 1;
                self.leading_seen |= self.particle < model.one_of_first;
                return Some(self);
            }
            if self.count < particle.min {
                return None;
            }
            self.particle += 1;
            self.count = 0;
        }
    }

    /// What the model allows next, for the error.
    fn expected(&self, model: &Model) -> String {
        if model.content.is_empty() {
            return "no child elements".to_string();
        }
        let mut names = Vec::new();
        for (index, particle) in model.content.iter().enumerate().skip(self.particle) {
            let count = self.count_at(index);
            if count < particle.max {
                names.extend(particle.names.iter().map(Name::shown));
            }
            if count < particle.min {
                return alternatives(&names);
            }
        }
        if model.one_of_first == 0 || self.leading_seen {
            names.push(format!("the end of <{}>", model.element.shown()));
        }
        alternatives(&names)
    }

    /// What the model still requires once the children end, if anything.
    fn missing(&self, model: &Model) -> Option<String> {
        for (index, particle) in model.content.iter().enumerate().skip(self.particle) {
            if self.count_at(index) < particle.min {
                return Some(alternatives(&particle.names.iter().map(Name::shown).collect::<Vec<_>>()));
            }
        }
        if model.one_of_first > 0 && !self.leading_seen {
            let leading = model.content.iter().take(model.one_of_first).flat_map(|p| p.names.iter().map(Name::shown));
            return Some(alternatives(&leading.collect::<Vec<_>>()));
        }
        None
    }
}

/// `a`, `a or b`, `a, b or c`.
fn alternatives(names: &[String]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

    /// A Response with `inside` in its assertion, after the assertion's Issuer.
    fn response(before_assertion: &str, inside: &str) -> String {
        format!(
            "<samlp:Response xmlns:samlp=\"{SAMLP}\" xmlns:saml=\"{SAML}\"><saml:Issuer>idp</saml:Issuer>\
             <samlp:Status><samlp:StatusCode Value=\"s\"/></samlp:Status>{before_assertion}\
             <saml:Assertion><saml:Issuer>idp</saml:Issuer>{inside}</saml:Assertion></samlp:Response>"
        )
    }

    fn check(xml: &str) -> Result<(), SchemaError> {
        check_response(&crossfed_xml::parse(xml.as_bytes()).unwrap())
    }

    const SUBJECT: &str = "<saml:Subject><saml:NameID>a</saml:NameID><saml:SubjectConfirmation Method=\"m\">\
                           <saml:SubjectConfirmationData><x:y xmlns:x=\"urn:x\"/></saml:SubjectConfirmationData>\
                           </saml:SubjectConfirmation></saml:Subject>";

    #[test]
    fn a_response_in_schema_order_passes() {
        let inside = format!(
            "{SUBJECT}<saml:Conditions><saml:AudienceRestriction><saml:Audience>sp</saml:Audience>\
             </saml:AudienceRestriction><saml:OneTimeUse/></saml:Conditions>\
             <saml:Advice><x:any xmlns:x=\"urn:x\"/></saml:Advice>\
             <saml:AuthnStatement AuthnInstant=\"t\"><saml:AuthnContext><saml:AuthnContextClassRef>c\
             </saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>\
             <saml:AttributeStatement><saml:Attribute Name=\"n\"><saml:AttributeValue><x:v xmlns:x=\"urn:x\"/>\
             </saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
        );
        check(&response("", &inside)).unwrap();
    }

    #[test]
    fn an_assertion_in_a_near_miss_namespace_is_refused_with_its_namespace() {
        let near_miss = format!("<saml:Assertion xmlns:saml=\"{SAML} \"/>");
        assert_eq!(
            check(&response(&near_miss, "")),
            Err(SchemaError::UnexpectedElement {
                found: "saml:Assertion".into(),
                namespace: format!("{SAML} "),
                parent: "samlp:Response".into(),
                expected: "saml:Assertion, saml:EncryptedAssertion or the end of <samlp:Response>".into(),
            })
        );
    }

    #[test]
    fn children_out_of_order_or_repeated_are_refused() {
        let error = check(&response("", &format!("<saml:Conditions/>{SUBJECT}"))).unwrap_err();
        assert_eq!(
            error,
            SchemaError::UnexpectedElement {
                found: "saml:Subject".into(),
                namespace: SAML.into(),
                parent: "saml:Assertion".into(),
                expected: "saml:Advice, saml:Statement, saml:AuthnStatement, saml:AuthzDecisionStatement, \
                           saml:AttributeStatement or the end of <saml:Assertion>"
                    .into(),
            }
        );
        let twice = "<saml:Subject><saml:NameID>a</saml:NameID><saml:NameID>b</saml:NameID></saml:Subject>";
        assert!(matches!(
            check(&response("", twice)),
            Err(SchemaError::UnexpectedElement { found, expected, .. })
                if found == "saml:NameID" && expected == "saml:SubjectConfirmation or the end of <saml:Subject>"
        ));
    }

    #[test]
    fn unknown_children_of_the_elements_read_are_refused() {
        for (inside, parent) in [
            ("<saml:Subject><saml:NameID>a</saml:NameID><x:Extra xmlns:x=\"urn:x\"/></saml:Subject>", "saml:Subject"),
            ("<saml:Conditions><x:Extra xmlns:x=\"urn:x\"/></saml:Conditions>", "saml:Conditions"),
            (
                "<saml:AttributeStatement><saml:Attribute Name=\"n\"><saml:Value/></saml:Attribute>\
              </saml:AttributeStatement>",
                "saml:Attribute",
            ),
            ("<saml:Subject><saml:NameID>a<x:b xmlns:x=\"urn:x\"/></saml:NameID></saml:Subject>", "saml:NameID"),
        ] {
            match check(&response("", inside)) {
                Err(SchemaError::UnexpectedElement { parent: p, .. }) => assert_eq!(p, parent, "{inside}"),
                other => panic!("{inside}: {other:?}"),
            }
        }
    }

    #[test]
    fn what_the_schema_requires_is_required() {
        assert_eq!(
            check(&response("", "<saml:Subject/>")),
            Err(SchemaError::MissingElement {
                parent: "saml:Subject".into(),
                expected: "saml:BaseID, saml:NameID, saml:EncryptedID or saml:SubjectConfirmation".into(),
            })
        );
        assert_eq!(
            check(&response("", "<saml:AuthnStatement/>")),
            Err(SchemaError::MissingElement {
                parent: "saml:AuthnStatement".into(),
                expected: "saml:AuthnContext".into()
            })
        );
        let no_code = format!("<samlp:Response xmlns:samlp=\"{SAMLP}\"><samlp:Status/></samlp:Response>");
        assert_eq!(
            check(&no_code),
            Err(SchemaError::MissingElement { parent: "samlp:Status".into(), expected: "samlp:StatusCode".into() })
        );
    }

    #[test]
    fn xinclude_is_refused_anywhere_even_in_open_content() {
        for uri in [ns::XINCLUDE, ns::XINCLUDE_DRAFT] {
            let include = format!("<xi:include xmlns:xi=\"{uri}\" href=\"file:///etc/passwd\"/>");
            let in_extensions = format!("<samlp:Extensions>{include}</samlp:Extensions>");
            let xml = response("", &format!("<saml:Advice>{include}</saml:Advice>"));
            assert_eq!(
                check(&xml),
                Err(SchemaError::XInclude {
                    found: "xi:include".into(),
                    namespace: uri.into(),
                    parent: "saml:Advice".into()
                })
            );
            let xml = response("", "").replace("<samlp:Status>", &format!("{in_extensions}<samlp:Status>"));
            assert!(matches!(check(&xml), Err(SchemaError::XInclude { parent, .. }) if parent == "samlp:Extensions"));
        }
    }
}
