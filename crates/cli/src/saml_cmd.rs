//! `crossfed saml`: decode, verify, sign and validate SAML messages.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use crossfed_saml::{
    EntityDescriptor, MemoryReplayCache, SignatureRequirement, SpPolicy, Timestamp, ns, validate_response_traced,
};
use crossfed_xml::{parse, to_pretty_xml, to_xml};
use crossfed_xmldsig::{Certificate, SignOptions, SigningKey, VerifyOptions, sign_enveloped, verify_enveloped};

use crate::input::{decode_message, read_source};

#[derive(Subcommand)]
pub enum SamlCommand {
    /// Decode a message (XML, base64, Redirect query or URL, deflated value) and print it as XML.
    Decode {
        /// File to read, or - for standard input.
        #[arg(default_value = "-")]
        input: String,
        /// Print the XML as received instead of re-indented.
        #[arg(long)]
        raw: bool,
    },
    /// Check every signature in a document; exit 0 only when all are valid.
    Verify {
        input: String,
        /// PEM file with the signer's certificate(s).
        #[arg(long, required_unless_present = "metadata")]
        cert: Option<PathBuf>,
        /// SAML metadata of the signer; its signing certificates are trusted.
        #[arg(long)]
        metadata: Option<PathBuf>,
        /// Name of the ID attribute signatures reference.
        #[arg(long, default_value = "ID")]
        id_attr: String,
        /// Accept RSA-SHA1 / SHA-1 (legacy peers only).
        #[arg(long)]
        allow_sha1: bool,
    },
    /// Sign an element (the root by default) with an enveloped signature.
    Sign {
        input: String,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        cert: PathBuf,
        /// ID of the element to sign.
        #[arg(long)]
        element_id: Option<String>,
        #[arg(long, default_value = "ID")]
        id_attr: String,
        /// Output file (standard output by default).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Leave KeyInfo out: verifiers then pick the key from their configuration alone, as
        /// crossfed does (fuzz seeds that reach past the signature need this).
        #[arg(long)]
        no_key_info: bool,
    },
    /// Run the full SP-side validation of a Response and report every check.
    Validate(ValidateArgs),
}

pub fn run(command: SamlCommand) -> Result<ExitCode> {
    match command {
        SamlCommand::Decode { input, raw } => decode(&input, raw),
        SamlCommand::Verify { input, cert, metadata, id_attr, allow_sha1 } => {
            verify(&input, cert, metadata, &id_attr, allow_sha1)
        }
        SamlCommand::Sign { input, key, cert, element_id, id_attr, output, no_key_info } => {
            sign(&input, &key, &cert, element_id.as_deref(), &id_attr, output, !no_key_info)
        }
        SamlCommand::Validate(args) => validate(&args),
    }
}

fn decode(input: &str, raw: bool) -> Result<ExitCode> {
    let decoded = decode_message(&read_source(input)?)?;
    eprintln!("binding: {}", decoded.binding);
    if let Some(rs) = &decoded.relay_state {
        eprintln!("RelayState: {rs}");
    }
    if raw {
        println!("{}", String::from_utf8_lossy(&decoded.xml));
    } else {
        let doc = parse(&decoded.xml).context("the decoded message is not acceptable XML")?;
        print!("{}", to_pretty_xml(&doc));
    }
    Ok(ExitCode::SUCCESS)
}

/// The entity ID and signing certificates of the IdP described by a metadata file.
fn load_idp_metadata(path: &PathBuf) -> Result<(String, Vec<Certificate>)> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let entity =
        EntityDescriptor::parse(&bytes).with_context(|| format!("reading metadata from {}", path.display()))?;
    let idp = entity.require_idp().with_context(|| format!("{} does not describe an IdP", path.display()))?;
    if idp.signing_certificates.is_empty() {
        bail!("{} lists no signing certificate for the IdP", path.display());
    }
    Ok((entity.entity_id.clone(), idp.signing_certificates.clone()))
}

fn verify(
    input: &str,
    cert: Option<PathBuf>,
    metadata: Option<PathBuf>,
    id_attr: &str,
    allow_sha1: bool,
) -> Result<ExitCode> {
    let mut trusted = Vec::new();
    if let Some(path) = &cert {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        trusted.extend(
            Certificate::all_from_pem(&pem).with_context(|| format!("reading certificates from {}", path.display()))?,
        );
    }
    if let Some(path) = &metadata {
        trusted.extend(load_idp_metadata(path)?.1);
    }
    let decoded = decode_message(&read_source(input)?)?;
    let doc = parse(&decoded.xml).context("the message is not acceptable XML")?;
    let options = VerifyOptions { id_attribute: id_attr, algorithms: crossfed_xmldsig::AlgorithmPolicy { allow_sha1 } };
    let signed: Vec<_> = doc.descendants().filter(|e| e.child(ns::DSIG, "Signature").is_some()).collect();
    if signed.is_empty() {
        println!("✗ no signed element in the document");
        return Ok(ExitCode::from(1));
    }
    let mut all_valid = true;
    for element in signed {
        let label = format!("<{} {id_attr}=\"{}\">", element.qualified_name(), element.attr(id_attr).unwrap_or("?"));
        match verify_enveloped(&doc, element.id(), &trusted, &options) {
            Ok(v) => {
                let c = trusted.get(v.certificate_index());
                println!(
                    "✓ {label} signed with {:?} by {} (sha256 {})",
                    v.algorithm(),
                    c.map_or("?", Certificate::subject),
                    c.map(Certificate::fingerprint_hex).unwrap_or_default()
                );
            }
            Err(e) => {
                all_valid = false;
                println!("✗ {label}: {e}");
            }
        }
    }
    Ok(if all_valid { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn sign(
    input: &str,
    key: &PathBuf,
    cert: &PathBuf,
    element_id: Option<&str>,
    id_attr: &str,
    output: Option<PathBuf>,
    include_certificate: bool,
) -> Result<ExitCode> {
    let key_pem = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
    let cert_pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let signing_key = SigningKey::from_pem(&key_pem, &cert_pem).context("loading the signing key")?;
    let mut doc = parse(&read_source(input)?).context("the input is not acceptable XML")?;
    let target = match element_id {
        None => doc.root(),
        Some(id) => doc
            .descendants()
            .find(|e| e.attr(id_attr) == Some(id))
            .map(|e| e.id())
            .with_context(|| format!("no element has {id_attr}=\"{id}\""))?,
    };
    let options = SignOptions { id_attribute: id_attr, include_certificate, ..SignOptions::default() };
    sign_enveloped(&mut doc, target, &signing_key, &options).context("signing")?;
    let xml = to_xml(&doc);
    match output {
        Some(path) => std::fs::write(&path, xml).with_context(|| format!("writing {}", path.display()))?,
        None => println!("{xml}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args)]
pub struct ValidateArgs {
    response: String,
    #[arg(long)]
    idp_metadata: PathBuf,
    #[arg(long)]
    sp_entity_id: String,
    #[arg(long)]
    acs_url: String,
    /// ID of the AuthnRequest this response answers (omit for IdP-initiated login).
    #[arg(long)]
    request_id: Option<String>,
    /// Validate as of this time (RFC 3339) instead of now.
    #[arg(long)]
    now: Option<String>,
    #[arg(long)]
    allow_unsolicited: bool,
    #[arg(long, default_value_t = 120)]
    clock_skew: i64,
    /// Which signature the response needs: the assertion covered by either (default), the
    /// assertion's own, the Response's, or both.
    #[arg(long, value_enum, default_value_t = SignedBy::Either)]
    signed: SignedBy,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SignedBy {
    Either,
    Assertion,
    Response,
    Both,
}

impl From<SignedBy> for SignatureRequirement {
    fn from(signed: SignedBy) -> Self {
        match signed {
            SignedBy::Either => SignatureRequirement::AssertionCovered,
            SignedBy::Assertion => SignatureRequirement::AssertionSigned,
            SignedBy::Response => SignatureRequirement::ResponseSigned,
            SignedBy::Both => SignatureRequirement::Both,
        }
    }
}

fn validate(args: &ValidateArgs) -> Result<ExitCode> {
    let (idp_entity_id, certificates) = load_idp_metadata(&args.idp_metadata)?;
    let now = match &args.now {
        Some(t) => Timestamp::parse(t).with_context(|| format!("--now {t:?} is not an RFC 3339 time"))?,
        None => Timestamp::from(crate::process::clock().now()),
    };
    let decoded = decode_message(&read_source(&args.response)?)?;
    let mut policy = SpPolicy::new(&args.sp_entity_id, &args.acs_url, &idp_entity_id, &certificates);
    policy.allow_unsolicited = args.allow_unsolicited;
    policy.clock_skew_seconds = args.clock_skew;
    policy.signatures = args.signed.into();
    let mut trace = Vec::new();
    let result = validate_response_traced(
        &decoded.xml,
        &policy,
        args.request_id.as_deref(),
        now,
        &MemoryReplayCache::default(),
        &mut trace,
    );
    if args.json {
        let report = match &result {
            Ok(accepted) => serde_json::json!({"accepted": true, "checks": trace, "assertion": accepted}),
            Err(e) => {
                serde_json::json!({"accepted": false, "checks": trace, "error": e.to_string(), "error_kind": error_kind(e)})
            }
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for check in &trace {
            println!("✓ {}: {}", check.name, check.detail);
        }
        match &result {
            Ok(a) => {
                println!("ACCEPTED");
                println!("NameID: {} ({})", a.name_id.value, a.name_id.format.as_deref().unwrap_or("unspecified"));
                for attribute in &a.attributes {
                    println!("  {} = {}", attribute.name, attribute.values.join(" | "));
                }
            }
            Err(e) => println!("✗ {e}\nREJECTED"),
        }
    }
    Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The variant name of a validation error, stable for scripts.
fn error_kind(e: &crossfed_saml::ValidationError) -> String {
    let debug = format!("{e:?}");
    debug.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}
