//! Reading the messages people paste: files or stdin, raw XML, base64 (POST binding), a Redirect
//! query or URL, or a bare deflated-and-encoded value.

use std::io::Read;

use anyhow::{Context, Result, bail};
use crossfed_saml::inflate_bounded;
use crossfed_saml::{decode_post, decode_redirect};

/// Reads a file, or stdin for `-`.
pub fn read_source(path: &str) -> Result<Vec<u8>> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {path}"))
    }
}

/// What a pasted message turned out to be.
pub struct Decoded {
    pub xml: Vec<u8>,
    pub binding: &'static str,
    pub relay_state: Option<String>,
}

/// Finds the XML inside whatever encoding the input has.
pub fn decode_message(input: &[u8]) -> Result<Decoded> {
    let text = String::from_utf8_lossy(input);
    let trimmed = text.trim();
    if trimmed.starts_with('<') {
        return Ok(Decoded { xml: trimmed.as_bytes().to_vec(), binding: "raw XML", relay_state: None });
    }
    // A Redirect URL or query string.
    let query = trimmed.split_once('?').map_or(trimmed, |(_, q)| q);
    if query.contains("SAMLRequest=") || query.contains("SAMLResponse=") {
        let message = decode_redirect(query).context("decoding the HTTP-Redirect query")?;
        return Ok(Decoded { xml: message.xml, binding: "HTTP-Redirect", relay_state: message.relay_state });
    }
    // A form value, maybe still URL-encoded.
    let value = if trimmed.contains('%') {
        percent_encoding::percent_decode_str(trimmed).decode_utf8_lossy().into_owned()
    } else {
        trimmed.to_string()
    };
    let bytes = decode_post(&value)
        .context("the input is neither XML nor a Redirect query, and it is not a valid HTTP-POST value")?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Ok(Decoded { xml: bytes, binding: "HTTP-POST (base64)", relay_state: None });
    }
    match inflate_bounded(&bytes) {
        Ok(xml) => Ok(Decoded { xml, binding: "HTTP-Redirect value (deflate + base64)", relay_state: None }),
        Err(e) => bail!("decoded base64 is neither XML nor DEFLATE data: {e}"),
    }
}
