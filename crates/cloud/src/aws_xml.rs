//! Responses of the AWS query protocol (STS, IAM): `<ActionResponse><ActionResult>…` and the
//! `<ErrorResponse>` shape clients parse error codes from.

use crate::error::AwsError;

pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// A small writer of escaped XML.
#[derive(Debug, Default)]
pub struct XmlOut(String);

impl XmlOut {
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
        self
    }
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
        self
    }
    pub fn leaf(&mut self, name: &str, value: &str) -> &mut Self {
        self.open(name);
        // HTML escaping is XML escaping plus quotes, which are harmless in element text.
        self.0.push_str(&crossfed_saml::html_escape(value));
        self.close(name)
    }
    pub fn leaf_opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.leaf(name, v);
        }
        self
    }
}

/// `<{action}Response xmlns=…><{action}Result>…</…Result><ResponseMetadata>…`.
pub fn success(action: &str, namespace: &str, request_id: &str, result: &XmlOut) -> String {
    let mut out = XmlOut(String::with_capacity(1024 + result.0.len()));
    out.0.push_str(&format!("<{action}Response xmlns=\"{namespace}\">"));
    out.open(&format!("{action}Result"));
    out.0.push_str(&result.0);
    out.close(&format!("{action}Result"));
    out.open("ResponseMetadata").leaf("RequestId", request_id).close("ResponseMetadata");
    out.close(&format!("{action}Response"));
    out.0
}

/// The error document; `Type` is Sender for client mistakes and Receiver for ours.
pub fn error(error: &AwsError, namespace: &str, request_id: &str) -> String {
    let mut out = XmlOut(String::with_capacity(512));
    out.0.push_str(&format!("<ErrorResponse xmlns=\"{namespace}\">"));
    out.open("Error")
        .leaf("Type", if error.status >= 500 { "Receiver" } else { "Sender" })
        .leaf("Code", error.code)
        .leaf("Message", &error.message)
        .close("Error");
    out.leaf("RequestId", request_id);
    out.close("ErrorResponse");
    out.0
}

/// ISO 8601 in UTC, as AWS writes dates.
pub fn iso8601(unix: i64) -> String {
    crossfed_saml::Timestamp::from_unix(unix).map(|t| t.to_xml()).unwrap_or_default()
}
