//! The attack corpus through `crossfed saml validate`: every case the CLI can express is refused
//! by the binary with the same error kind the library gives, so the command people use to debug
//! a response never accepts what the SP would refuse. Replay cases are left out: each CLI run has
//! its own replay cache, so a second presentation cannot be shown in one run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

// A crate root resolves `mod` next to itself; the corpus lives with the saml crate's tests.
use crossfed_attacks as corpus;

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use corpus::{ACS, Expected, Fixture, IDP, Input, SP};
use crossfed_saml::{
    Endpoint, EntityDescriptor, MemoryReplayCache, SignatureRequirement, SpPolicy, ValidationError, decode_redirect,
    validate_response,
};

fn kind_of(e: &ValidationError) -> String {
    format!("{e:?}").split(['(', ' ', '{']).next().unwrap().to_string()
}

fn signed_flag(requirement: SignatureRequirement) -> &'static str {
    match requirement {
        SignatureRequirement::AssertionCovered => "either",
        SignatureRequirement::AssertionSigned => "assertion",
        SignatureRequirement::ResponseSigned => "response",
        SignatureRequirement::Both => "both",
    }
}

#[test]
fn the_cli_refuses_every_attack_the_library_refuses_with_the_same_error() {
    let fx = Fixture::new();
    let dir = crossfed_testkit::temp_dir();
    let metadata = dir.path().join("idp.xml");
    let certs = vec![fx.idp_key.certificate().clone()];
    let idp = EntityDescriptor::idp(IDP, certs.clone(), vec![Endpoint::redirect("https://corp.example.com/sso")]);
    std::fs::write(&metadata, idp.to_xml()).unwrap();

    let cases = corpus::corpus(&fx);
    let mut checked = 0;
    let mut refused_at_decoding = Vec::new();
    for case in cases.iter().filter(|c| !c.context.replay_first) {
        let input_file = dir.path().join(format!("{checked}.txt"));
        let (text, library) = match (&case.input, &case.expected) {
            (Input::Redirect(query), Expected::Binding(_)) => (query.clone(), None),
            (Input::Redirect(query), _) => {
                let xml = decode_redirect(query).unwrap().xml;
                (query.clone(), Some(xml))
            }
            (Input::Post(xml), _) => (STANDARD.encode(xml), Some(xml.clone())),
        };
        std::fs::write(&input_file, text).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_crossfed"));
        command
            .args(["saml", "validate", "--json", "--idp-metadata"])
            .arg(&metadata)
            .args(["--sp-entity-id", SP, "--acs-url", ACS, "--now", &case.context.now.to_string()])
            .args(["--signed", signed_flag(case.context.signatures)])
            .arg(&input_file);
        if let Some(id) = &case.context.request_id {
            command.args(["--request-id", id]);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let Some(xml) = library else {
            // Refused while decoding the Redirect query, before any validation.
            assert_eq!(output.status.code(), Some(2), "{}: {stdout}{stderr}", case.name);
            assert!(stderr.contains("decoding the HTTP-Redirect query"), "{}: {stderr}", case.name);
            checked += 1;
            continue;
        };
        let policy = SpPolicy { signatures: case.context.signatures, ..SpPolicy::new(SP, ACS, IDP, &certs) };
        let expected = validate_response(
            &xml,
            &policy,
            case.context.request_id.as_deref(),
            case.context.now,
            &MemoryReplayCache::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("{}: the library accepted it", case.name));
        if output.status.code() == Some(2) {
            // Refused while decoding the POST value (its size bound), before validation.
            assert!(stderr.contains("not a valid HTTP-POST value"), "{}: {stderr}", case.name);
            refused_at_decoding.push(case.name);
            checked += 1;
            continue;
        }
        assert_eq!(output.status.code(), Some(1), "{}: {stdout}{stderr}", case.name);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["accepted"], false, "{}", case.name);
        assert_eq!(report["error_kind"], kind_of(&expected), "{}: {stdout}", case.name);
        checked += 1;
    }
    assert!(checked >= 80, "only {checked} cases ran through the CLI");
    assert!(refused_at_decoding.len() <= 2, "refused before validation: {refused_at_decoding:?}");
    println!(
        "{checked} of {} corpus cases refused by `crossfed saml validate` ({} while decoding: {refused_at_decoding:?})",
        cases.len(),
        refused_at_decoding.len()
    );
}
