//! The HTTP-Redirect and HTTP-POST bindings: encoding, bounded decoding, and Redirect query
//! signatures verified over the exact bytes received.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crossfed_xmldsig::{AlgorithmPolicy, Certificate, DsigError, SigningKey, decode_base64};
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use thiserror::Error;

/// Largest message accepted after inflating or base64-decoding: far above any real SAML
/// message, far below what a deflate bomb would expand to.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Characters left unescaped in query values: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BindingError {
    #[error("the query has no {0} parameter")]
    MissingParameter(&'static str),
    #[error("the query carries both SAMLRequest and SAMLResponse")]
    BothMessages,
    #[error("parameter {0} appears more than once")]
    DuplicateParameter(String),
    #[error("invalid percent-encoding in {0}")]
    PercentEncoding(&'static str),
    #[error("invalid base64 in {0}")]
    Base64(&'static str),
    #[error("the message is not valid raw DEFLATE data")]
    Deflate,
    #[error("the message inflates to more than {limit} bytes (deflate bomb?)")]
    TooLarge { limit: usize },
    #[error("the message is signed (SigAlg) but has no Signature parameter, or the reverse")]
    IncompleteSignature,
    #[error("the Redirect binding signature is invalid: {0}")]
    Signature(DsigError),
    #[error("the message is not signed, and this peer requires signed messages")]
    Unsigned,
}

/// Which protocol message a binding carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Request,
    Response,
}

impl MessageKind {
    pub fn parameter(self) -> &'static str {
        match self {
            MessageKind::Request => "SAMLRequest",
            MessageKind::Response => "SAMLResponse",
        }
    }
}

fn deflate(xml: &[u8]) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(xml.len() / 2), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(xml);
    encoder.finish().unwrap_or_default()
}

/// Inflates raw DEFLATE data, refusing output over [`MAX_MESSAGE_BYTES`].
pub fn inflate_bounded(data: &[u8]) -> Result<Vec<u8>, BindingError> {
    // The input is the sender's: its size may suggest the output's, never beyond the bound.
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(MAX_MESSAGE_BYTES + 1));
    let mut decoder = DeflateDecoder::new(data).take(MAX_MESSAGE_BYTES as u64 + 1);
    decoder.read_to_end(&mut out).map_err(|_| BindingError::Deflate)?;
    if out.len() > MAX_MESSAGE_BYTES {
        return Err(BindingError::TooLarge { limit: MAX_MESSAGE_BYTES });
    }
    Ok(out)
}

/// Form encoding, spaces as '+': verifiers must check the received bytes (SAML bindings
/// §3.4.4.1), but some (pysaml2) re-encode the query themselves the way form encoding does.
fn encode_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string().replace("%20", "+")
}

/// Builds the query string of a Redirect-binding message, signed when `key` is given
/// (SAML bindings §3.4.4.1: the signature covers `SAMLRequest=…&RelayState=…&SigAlg=…`).
pub fn redirect_query(
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&SigningKey>,
) -> Result<String, DsigError> {
    let mut query = format!("{}={}", kind.parameter(), encode_value(&STANDARD.encode(deflate(xml.as_bytes()))));
    if let Some(rs) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&encode_value(rs));
    }
    if let Some(key) = key {
        query.push_str("&SigAlg=");
        query.push_str(&encode_value(key.algorithm().uri()));
        let signature = key.sign(query.as_bytes())?;
        query.push_str("&Signature=");
        query.push_str(&encode_value(&STANDARD.encode(signature)));
    }
    Ok(query)
}

/// A decoded Redirect-binding message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectMessage {
    pub kind: MessageKind,
    pub xml: Vec<u8>,
    pub relay_state: Option<String>,
    /// Signature algorithm URI, when the query was signed.
    pub sig_alg: Option<String>,
    signed_bytes: Option<String>,
    signature: Option<Vec<u8>>,
}

impl RedirectMessage {
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Verifies the query signature with the peer's configured certificates; returns the index of
    /// the certificate that verified. Unsigned messages are an error: call this only for peers
    /// that must sign.
    pub fn verify(&self, trusted: &[Certificate], policy: &AlgorithmPolicy) -> Result<usize, BindingError> {
        let (Some(signed), Some(signature), Some(alg)) = (&self.signed_bytes, &self.signature, &self.sig_alg) else {
            return Err(BindingError::Unsigned);
        };
        let algorithm = policy.signature_algorithm(alg).map_err(BindingError::Signature)?;
        if trusted.is_empty() {
            return Err(BindingError::Signature(DsigError::NoTrustedCertificates));
        }
        trusted
            .iter()
            .position(|c| c.verify(algorithm, signed.as_bytes(), signature))
            .ok_or(BindingError::Signature(DsigError::BadSignature))
    }
}

/// Decodes a Redirect-binding query string (without the leading `?`). The signed bytes are kept
/// exactly as received, since re-encoding may differ from the sender's encoding.
pub fn decode_redirect(query: &str) -> Result<RedirectMessage, BindingError> {
    let mut message: Option<(MessageKind, &str)> = None;
    let mut relay_state: Option<&str> = None;
    let mut sig_alg: Option<&str> = None;
    let mut signature: Option<&str> = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(n, _)| n);
        let slot = match name {
            "SAMLRequest" | "SAMLResponse" => {
                let kind = if name == "SAMLRequest" { MessageKind::Request } else { MessageKind::Response };
                if let Some((existing, _)) = message {
                    return Err(if existing == kind {
                        BindingError::DuplicateParameter(name.to_string())
                    } else {
                        BindingError::BothMessages
                    });
                }
                message = Some((kind, pair));
                continue;
            }
            "RelayState" => &mut relay_state,
            "SigAlg" => &mut sig_alg,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(BindingError::DuplicateParameter(name.to_string()));
        }
        *slot = Some(pair);
    }
    let (kind, message_pair) = message.ok_or(BindingError::MissingParameter("SAMLRequest or SAMLResponse"))?;
    let value_of = |pair: &str| pair.split_once('=').map_or("", |(_, v)| v).to_string();
    let decode = |pair: &str, what: &'static str| -> Result<String, BindingError> {
        // Form encoding writes spaces as '+'.
        let raw = value_of(pair).replace('+', " ");
        percent_decode_str(&raw).decode_utf8().map(|c| c.into_owned()).map_err(|_| BindingError::PercentEncoding(what))
    };
    // Base64 has no spaces, so a '+' there is a base64 '+' some sender forgot to escape.
    let decode_b64 = |pair: &str, what: &'static str| -> Result<Vec<u8>, BindingError> {
        let text = percent_decode_str(&value_of(pair))
            .decode_utf8()
            .map_err(|_| BindingError::PercentEncoding(what))?
            .into_owned();
        decode_base64(&text).map_err(|_| BindingError::Base64(what))
    };
    let compressed = decode_b64(message_pair, "the message")?;
    let xml = inflate_bounded(&compressed)?;
    let relay = relay_state.map(|p| decode(p, "RelayState")).transpose()?;

    let (signed_bytes, signature_bytes, alg) = match (sig_alg, signature) {
        (Some(alg_pair), Some(sig_pair)) => {
            let mut signed = message_pair.to_string();
            if let Some(rs) = relay_state {
                signed.push('&');
                signed.push_str(rs);
            }
            signed.push('&');
            signed.push_str(alg_pair);
            let sig = decode_b64(sig_pair, "Signature")?;
            (Some(signed), Some(sig), Some(decode(alg_pair, "SigAlg")?))
        }
        (None, None) => (None, None, None),
        _ => return Err(BindingError::IncompleteSignature),
    };
    Ok(RedirectMessage { kind, xml, relay_state: relay, sig_alg: alg, signed_bytes, signature: signature_bytes })
}

/// Decodes the base64 form value of the POST binding.
pub fn decode_post(value: &str) -> Result<Vec<u8>, BindingError> {
    if value.len() > MAX_MESSAGE_BYTES * 4 / 3 + 16 {
        return Err(BindingError::TooLarge { limit: MAX_MESSAGE_BYTES });
    }
    decode_base64(value).map_err(|_| BindingError::Base64("the POST message"))
}

/// The inverse of [`html_escape`], for reading forms out of pages: `&amp;`, `&quot;`, `&#39;`, `&#x27;` and the like back into characters.
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let tail = rest.get(at..).unwrap_or("");
        let entity = tail.find(';').and_then(|end| {
            let name = tail.get(1..end)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => name.strip_prefix('#')?.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end + 1))
        });
        match entity {
            Some((c, length)) => {
                out.push(c);
                rest = tail.get(length..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes text for an HTML attribute value.
pub fn html_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 16);
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_unescape_reverses_html_escape_and_keeps_what_it_does_not_know() {
        let text = "state \"x\" & 'y' <z>";
        assert_eq!(html_unescape(&html_escape(text)), text);
        assert_eq!(html_unescape("a &unknown; b & c &#65;&#x42;"), "a &unknown; b & c AB");
        assert_eq!(html_unescape("tail &amp"), "tail &amp");
    }
}
