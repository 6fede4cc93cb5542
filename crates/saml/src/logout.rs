//! Single logout messages: LogoutRequest and LogoutResponse, built and parsed.

use crossfed_xml::QualifiedName;
use crossfed_xmldsig::{Certificate, DsigError, SigningKey};

use crate::ns;
use crate::protocol::{RequestError, finish, identity_text, issuer_of, new_message, parse_message};
use crate::response::NameId;
use crate::timestamp::Timestamp;

/// A LogoutRequest: "end the session of this subject".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogoutRequest {
    pub id: String,
    pub issuer: String,
    pub destination: Option<String>,
    pub issue_instant: String,
    pub name_id: NameId,
    pub session_indexes: Vec<String>,
    pub xml_signed: bool,
}

/// A LogoutResponse: the answer to a LogoutRequest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogoutResponse {
    pub id: String,
    pub issuer: String,
    pub destination: Option<String>,
    pub in_response_to: Option<String>,
    pub status: String,
    pub xml_signed: bool,
}

impl LogoutResponse {
    pub fn is_success(&self) -> bool {
        self.status == ns::STATUS_SUCCESS
    }
}

/// Builds a LogoutRequest, returning (ID, XML).
pub fn build_logout_request(
    issuer: &str,
    destination: &str,
    name_id: &NameId,
    session_index: Option<&str>,
    now: Timestamp,
    sign_with: Option<&SigningKey>,
) -> Result<(String, String), DsigError> {
    let (id, mut doc) = new_message("LogoutRequest", issuer, destination, now)?;
    let root = doc.root();
    let element = doc.append_text_element(root, QualifiedName::new("saml", "NameID", ns::ASSERTION), &name_id.value);
    for (name, value) in [
        ("Format", &name_id.format),
        ("NameQualifier", &name_id.name_qualifier),
        ("SPNameQualifier", &name_id.sp_name_qualifier),
    ] {
        if let Some(v) = value {
            doc.set_attribute(element, QualifiedName::plain(name), v)?;
        }
    }
    if let Some(index) = session_index {
        doc.append_text_element(root, QualifiedName::new("samlp", "SessionIndex", ns::PROTOCOL), index);
    }
    Ok((id, finish(doc, sign_with)?))
}

/// Builds a LogoutResponse answering `in_response_to` with `status`, returning (ID, XML).
pub fn build_logout_response(
    issuer: &str,
    destination: &str,
    in_response_to: &str,
    status: &str,
    now: Timestamp,
    sign_with: Option<&SigningKey>,
) -> Result<(String, String), DsigError> {
    let (id, mut doc) = new_message("LogoutResponse", issuer, destination, now)?;
    let root = doc.root();
    doc.set_attribute(root, QualifiedName::plain("InResponseTo"), in_response_to)?;
    let status_element = doc.append_element(root, QualifiedName::new("samlp", "Status", ns::PROTOCOL));
    let code = doc.append_element(status_element, QualifiedName::new("samlp", "StatusCode", ns::PROTOCOL));
    doc.set_attribute(code, QualifiedName::plain("Value"), status)?;
    Ok((id, finish(doc, sign_with)?))
}

/// Parses a LogoutRequest (see [`crate::parse_authn_request`] for the meaning of `trusted`).
pub fn parse_logout_request(xml: &[u8], trusted: Option<&[Certificate]>) -> Result<LogoutRequest, RequestError> {
    parse_message(xml, "LogoutRequest", trusted, |root, xml_signed| {
        let name_id = root.child(ns::ASSERTION, "NameID").ok_or(RequestError::Missing("NameID"))?;
        Ok(LogoutRequest {
            id: root.attr("ID").ok_or(RequestError::Missing("ID"))?.to_string(),
            issuer: issuer_of(root)?,
            destination: root.attr("Destination").map(str::to_string),
            issue_instant: root.attr("IssueInstant").ok_or(RequestError::Missing("IssueInstant"))?.to_string(),
            name_id: NameId {
                value: identity_text(name_id, "NameID")?,
                format: name_id.attr("Format").map(str::to_string),
                name_qualifier: name_id.attr("NameQualifier").map(str::to_string),
                sp_name_qualifier: name_id.attr("SPNameQualifier").map(str::to_string),
            },
            session_indexes: root
                .children_named(ns::PROTOCOL, "SessionIndex")
                .map(|s| identity_text(s, "SessionIndex"))
                .collect::<Result<_, _>>()?,
            xml_signed,
        })
    })
}

/// Parses a LogoutResponse (see [`crate::parse_authn_request`] for the meaning of `trusted`).
pub fn parse_logout_response(xml: &[u8], trusted: Option<&[Certificate]>) -> Result<LogoutResponse, RequestError> {
    parse_message(xml, "LogoutResponse", trusted, |root, xml_signed| {
        let status = root
            .child(ns::PROTOCOL, "Status")
            .and_then(|s| s.child(ns::PROTOCOL, "StatusCode"))
            .and_then(|c| c.attr("Value"))
            .ok_or(RequestError::Missing("Status/StatusCode"))?;
        Ok(LogoutResponse {
            id: root.attr("ID").ok_or(RequestError::Missing("ID"))?.to_string(),
            issuer: issuer_of(root)?,
            destination: root.attr("Destination").map(str::to_string),
            in_response_to: root.attr("InResponseTo").map(str::to_string),
            status: status.to_string(),
            xml_signed,
        })
    })
}
