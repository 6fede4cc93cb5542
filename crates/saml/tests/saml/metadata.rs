//! SAML metadata: reading the shapes real providers publish (Entra ID federation metadata, IAM
//! Identity Center application metadata, AWS sign-in SP metadata), signed metadata, writing
//! and round trips, aggregates, and one test per error.
//!
//! The fixtures reproduce the structure of those documents with made-up tenants and freshly
//! generated certificates; the Entra one is signed with the key of its first certificate.

// clippy.toml allows these inside #[test] functions only; the helpers below are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use crossfed_saml::Timestamp;
use crossfed_saml::ns::{BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_TRANSIENT};
use crossfed_saml::{
    ContactPerson, Endpoint, EntitiesDescriptor, EntityDescriptor, IndexedEndpoint, Localized, MetadataError,
    Organization,
};
use crossfed_testkit::temp_dir;
use crossfed_xmldsig::{Certificate, DsigError, SigningKey};

const ENTRA: &str = include_str!("fixtures/entra-federation-metadata.xml");
const IAM_IDENTITY_CENTER: &str = include_str!("fixtures/iam-identity-center-app-metadata.xml");
const AWS_SIGNIN: &str = include_str!("fixtures/aws-signin-sp-metadata.xml");

const ENTRA_TENANT: &str = "4f2c5b1e-8d3a-4c7e-9b21-6a0d5e3f7c18";
const IIC_APP: &str = "MTExMTIyMjIzMzMzX2lucy1jMGZmZWUwMDAwMDAwMDAx";

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::generate_rsa("crossfed metadata tests", crossfed_clock::Clock::system().now(), 30).unwrap()
    })
}

fn other_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::generate_rsa("crossfed metadata tests, another signer", crossfed_clock::Clock::system().now(), 30)
            .unwrap()
    })
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// SHA-256 of the certificate whose key signed the Entra fixture.
const ENTRA_SIGNER_SHA256: &str = "f5164b663bacad77f941144847fea5cb1f78b09661310b443fec31b81a86ddf5";

/// The certificate the Entra fixture is signed with: taken from the file, then checked against
/// the pinned fingerprint, as an operator would before trusting it.
fn entra_signing_certificate() -> Certificate {
    let unverified = EntityDescriptor::parse(ENTRA.as_bytes()).unwrap();
    let certificate = unverified.idp.unwrap().signing_certificates.into_iter().next().unwrap();
    assert_eq!(certificate.fingerprint_hex(), ENTRA_SIGNER_SHA256);
    certificate
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

#[test]
fn reads_entra_federation_metadata() {
    let entity = EntityDescriptor::parse(ENTRA.as_bytes()).unwrap();
    assert_eq!(entity.entity_id, format!("https://sts.windows.net/{ENTRA_TENANT}/"));
    assert_eq!(entity.id.as_deref(), Some("_5e1c0a7d-3f9b-4b2e-a8c6-1d2e3f4a5b6c"));
    assert_eq!(entity.valid_until, None);
    assert!(entity.sp.is_none());

    let idp = entity.require_idp().unwrap();
    let saml2 = format!("https://login.microsoftonline.com/{ENTRA_TENANT}/saml2");
    assert_eq!(idp.sso_location(BINDING_HTTP_REDIRECT), Some(saml2.as_str()));
    assert_eq!(idp.sso_location(BINDING_HTTP_POST), Some(saml2.as_str()));
    assert_eq!(idp.single_sign_on_services.len(), 2);
    assert_eq!(idp.single_logout_services, vec![Endpoint::redirect(saml2.clone())]);
    assert!(idp.name_id_formats.is_empty());
    assert!(!idp.want_authn_requests_signed);
    assert!(idp.encryption_certificates.is_empty(), "use=\"signing\" keys are not encryption keys");

    // Key rollover: both signing certificates are kept, in document order.
    assert_eq!(idp.signing_certificates.len(), 2);
    assert!(idp.signing_certificates[0].subject().contains("2026"));
    assert!(idp.signing_certificates[1].subject().contains("2027"));
}

#[test]
fn entra_ws_federation_roles_are_skipped_and_named() {
    let entity = EntityDescriptor::parse(ENTRA.as_bytes()).unwrap();
    assert_eq!(
        entity.skipped_roles,
        vec![
            "RoleDescriptor xsi:type=\"fed:SecurityTokenServiceType\"".to_string(),
            "RoleDescriptor xsi:type=\"fed:ApplicationServiceType\"".to_string(),
        ]
    );
    // They show up when the caller asks for a role the file does not have.
    let err = entity.require_sp().unwrap_err();
    assert!(matches!(err, MetadataError::MissingRole { .. }));
    let message = err.to_string();
    assert!(message.contains("SPSSODescriptor"), "{message}");
    assert!(message.contains("fed:SecurityTokenServiceType"), "{message}");
    assert!(message.contains("identity-provider metadata"), "{message}");
}

#[test]
fn entra_signature_verifies_and_a_tampered_copy_does_not() {
    let trusted = vec![entra_signing_certificate()];
    let now = at("2026-12-01T00:00:00Z");
    let entity = EntityDescriptor::parse_signed(ENTRA.as_bytes(), &trusted, now).unwrap();
    assert_eq!(entity, EntityDescriptor::parse(ENTRA.as_bytes()).unwrap());

    // Redirecting sign-in elsewhere breaks the digest.
    let tampered = ENTRA.replacen(
        &format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://login.microsoftonline.com/{ENTRA_TENANT}/saml2\""),
        "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"https://attacker.example/saml2\"",
        1,
    );
    assert_ne!(tampered, ENTRA);
    let err = EntityDescriptor::parse_signed(tampered.as_bytes(), &trusted, now).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::DigestMismatch));
    assert!(err.to_string().contains("signature does not verify"), "{err}");

    // The second (not yet active) key did not sign it, and an unrelated one is not trusted.
    let second = EntityDescriptor::parse(ENTRA.as_bytes()).unwrap().idp.unwrap().signing_certificates[1].clone();
    let err = EntityDescriptor::parse_signed(ENTRA.as_bytes(), &[second], now).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::UntrustedCertificate));
}

#[test]
fn reads_iam_identity_center_application_metadata() {
    let entity = EntityDescriptor::parse(IAM_IDENTITY_CENTER.as_bytes()).unwrap();
    assert_eq!(entity.entity_id, format!("https://portal.sso.us-east-1.amazonaws.com/saml/assertion/{IIC_APP}"));
    assert_eq!(entity.id, None);
    assert!(entity.skipped_roles.is_empty());
    let idp = entity.require_idp().unwrap();
    assert_eq!(idp.signing_certificates.len(), 1);
    assert!(idp.encryption_certificates.is_empty());
    // An empty NameIDFormat is ignored.
    assert_eq!(idp.name_id_formats, vec![NAMEID_EMAIL.to_string()]);
    let sso = format!("https://portal.sso.us-east-1.amazonaws.com/saml/assertion/{IIC_APP}");
    assert_eq!(idp.sso_location(BINDING_HTTP_POST), Some(sso.as_str()));
    assert_eq!(idp.sso_location(BINDING_HTTP_REDIRECT), Some(sso.as_str()));
    let slo = format!("https://portal.sso.us-east-1.amazonaws.com/saml/logout/{IIC_APP}");
    assert_eq!(idp.slo_service(BINDING_HTTP_POST).unwrap().location, slo);
    assert_eq!(idp.single_logout_services.len(), 2);
    assert!(!idp.want_authn_requests_signed);

    let err = entity.require_sp().unwrap_err();
    assert!(err.to_string().contains("an IDPSSODescriptor"), "{err}");
}

#[test]
fn reads_aws_signin_sp_metadata() {
    let entity = EntityDescriptor::parse(AWS_SIGNIN.as_bytes()).unwrap();
    assert_eq!(entity.entity_id, "urn:amazon:webservices");
    assert_eq!(entity.valid_until, Some(at("2035-06-30T00:00:00Z")));
    let sp = entity.require_sp().unwrap();
    assert!(sp.want_assertions_signed);
    assert!(!sp.authn_requests_signed);
    assert_eq!(sp.name_id_formats, vec![NAMEID_TRANSIENT.to_string(), NAMEID_PERSISTENT.to_string()]);
    assert_eq!(sp.signing_certificates.len(), 1);
    assert_eq!(sp.encryption_certificates.len(), 1);
    assert_ne!(sp.signing_certificates[0], sp.encryption_certificates[0]);
    assert_eq!(sp.assertion_consumer_services.len(), 3);

    let default = sp.default_acs(BINDING_HTTP_POST).unwrap();
    assert_eq!((default.index, default.location.as_str()), (1, "https://signin.aws.amazon.com/saml"));
    assert_eq!(default.is_default, Some(true));
    assert_eq!(sp.acs_by_index(2).unwrap().location, "https://us-east-2.signin.aws.amazon.com/saml");
    assert_eq!(sp.acs_by_index(2).unwrap().is_default, None);
    assert!(sp.acs_by_index(4).is_none());
    assert!(sp.default_acs(BINDING_HTTP_REDIRECT).is_none());

    let org = entity.organization.as_ref().unwrap();
    assert_eq!(org.names, vec![Localized::new("en", "Example Cloud Services")]);
    assert_eq!(org.urls, vec![Localized::new("en", "https://cloud.example.com")]);

    let err = entity.require_idp().unwrap_err();
    assert!(matches!(err, MetadataError::MissingRole { .. }));
    assert!(err.to_string().contains("service-provider metadata"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Writing and round trips
// ---------------------------------------------------------------------------------------------

fn rich_entity() -> EntityDescriptor {
    let mut entity = EntityDescriptor::idp(
        "https://hub.example.com/saml",
        vec![key().certificate().clone(), other_key().certificate().clone()],
        vec![
            Endpoint::redirect("https://hub.example.com/saml/sso"),
            Endpoint::post("https://hub.example.com/saml/sso"),
        ],
    );
    entity.valid_until = Some(at("2027-01-01T00:00:00Z"));
    entity.cache_duration = Some("PT6H".to_string());
    let idp = entity.idp.as_mut().unwrap();
    idp.want_authn_requests_signed = true;
    idp.encryption_certificates = vec![other_key().certificate().clone()];
    idp.name_id_formats = vec![NAMEID_PERSISTENT.to_string(), NAMEID_EMAIL.to_string()];
    idp.single_logout_services = vec![Endpoint {
        binding: BINDING_HTTP_REDIRECT.to_string(),
        location: "https://hub.example.com/saml/slo".to_string(),
        response_location: Some("https://hub.example.com/saml/slo/response".to_string()),
    }];
    let mut sp = EntityDescriptor::sp(
        "unused",
        vec![key().certificate().clone()],
        vec![
            IndexedEndpoint::post("https://hub.example.com/saml/acs", 0).as_default(),
            IndexedEndpoint {
                is_default: Some(false),
                ..IndexedEndpoint::post("https://hub.example.com/saml/acs2", 7)
            },
            IndexedEndpoint::new(
                "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
                "https://hub.example.com/saml/acs-artifact",
                3,
            ),
        ],
    )
    .sp
    .unwrap();
    sp.authn_requests_signed = true;
    sp.want_assertions_signed = true;
    sp.name_id_formats = vec![NAMEID_TRANSIENT.to_string()];
    entity.sp = Some(sp);
    entity.organization = Some(Organization {
        names: vec![Localized::new("en", "Example & Sons"), Localized::new("de", "Beispiel & Söhne")],
        display_names: vec![Localized::new("en", "Example <Hub>")],
        urls: vec![Localized::new("en", "https://example.com/")],
    });
    entity.contacts = vec![
        ContactPerson {
            contact_type: "technical".to_string(),
            company: Some("Example".to_string()),
            given_name: Some("Ada".to_string()),
            surname: Some("Lovelace".to_string()),
            email_addresses: vec!["mailto:ops@example.com".to_string()],
            telephone_numbers: vec!["+1 555 0100".to_string()],
        },
        ContactPerson { contact_type: "support".to_string(), ..ContactPerson::default() },
    ];
    entity
}

#[test]
fn round_trip_gives_equal_values() {
    let entity = rich_entity();
    let xml = entity.to_xml();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><md:EntityDescriptor "), "{xml}");
    for expected in [
        "xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"",
        "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"",
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>",
        "<md:KeyDescriptor use=\"encryption\">",
        "validUntil=\"2027-01-01T00:00:00Z\"",
        "cacheDuration=\"PT6H\"",
        "index=\"0\" isDefault=\"true\"",
        "index=\"7\" isDefault=\"false\"",
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>",
        "xml:lang=\"de\"",
    ] {
        assert!(xml.contains(expected), "missing {expected} in {xml}");
    }
    let back = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    assert_eq!(back, entity);
}

#[test]
fn fixtures_survive_a_round_trip() {
    for fixture in [ENTRA, IAM_IDENTITY_CENTER, AWS_SIGNIN] {
        let mut entity = EntityDescriptor::parse(fixture.as_bytes()).unwrap();
        // Skipped roles are not written back.
        entity.skipped_roles.clear();
        let back = EntityDescriptor::parse(entity.to_xml().as_bytes()).unwrap();
        assert_eq!(back, entity);
    }
}

#[test]
fn builders_make_signable_entities() {
    let idp = EntityDescriptor::idp(
        "https://idp.example.com",
        vec![key().certificate().clone()],
        vec![Endpoint::post("https://idp.example.com/sso")],
    );
    let sp = EntityDescriptor::sp(
        "https://sp.example.com",
        vec![],
        vec![IndexedEndpoint::post("https://sp.example.com/acs", 1)],
    );
    for entity in [&idp, &sp] {
        let id = entity.id.as_deref().unwrap();
        assert!(id.starts_with('_') && id.len() > 20);
    }
    assert_ne!(idp.id, sp.id);
    assert!(idp.require_idp().is_ok() && idp.sp.is_none());
    assert!(sp.require_sp().is_ok() && sp.idp.is_none());
}

// ---------------------------------------------------------------------------------------------
// Signed metadata
// ---------------------------------------------------------------------------------------------

#[test]
fn signed_metadata_verifies_and_tampering_is_caught() {
    let entity = rich_entity();
    let signed = entity.to_signed_xml(key()).unwrap();
    let trusted = vec![key().certificate().clone()];
    let now = at("2026-06-01T00:00:00Z");
    let back = EntityDescriptor::parse_signed(signed.as_bytes(), &trusted, now).unwrap();
    assert_eq!(back, entity);

    let tampered = signed.replacen("https://hub.example.com/saml/acs\"", "https://evil.example.com/acs\"", 1);
    assert_ne!(tampered, signed);
    let err = EntityDescriptor::parse_signed(tampered.as_bytes(), &trusted, now).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::DigestMismatch));

    // Unsigned metadata is refused by parse_signed.
    let err = EntityDescriptor::parse_signed(entity.to_xml().as_bytes(), &trusted, now).unwrap_err();
    assert!(matches!(err, MetadataError::Signature(DsigError::NotSigned { .. })), "{err:?}");

    // Another signer's key does not verify it.
    let signed_by_other = entity.to_signed_xml(other_key()).unwrap();
    let err = EntityDescriptor::parse_signed(signed_by_other.as_bytes(), &trusted, now).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::UntrustedCertificate));
}

#[test]
fn a_signed_entity_wrapped_in_an_unsigned_aggregate_is_refused() {
    // The signature must be on the root itself: a signed entity moved inside an unsigned
    // aggregate is not accepted as signed.
    let signed = rich_entity().to_signed_xml(key()).unwrap();
    let body = signed.trim_start_matches("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let wrapped = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" ID=\"_outer\">{body}</md:EntitiesDescriptor>"
    );
    let trusted = vec![key().certificate().clone()];
    let err = EntityDescriptor::parse_signed(wrapped.as_bytes(), &trusted, at("2026-06-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, MetadataError::Signature(DsigError::NotSigned { .. })), "{err:?}");
}

#[test]
fn signed_aggregates_verify() {
    let mut aggregate = EntitiesDescriptor::new(vec![
        rich_entity(),
        EntityDescriptor::sp(
            "https://sp.example.com",
            vec![],
            vec![IndexedEndpoint::post("https://sp.example.com/acs", 0)],
        ),
    ]);
    aggregate.name = Some("urn:example:federation".to_string());
    aggregate.valid_until = Some(at("2026-12-31T00:00:00Z"));
    let signed = aggregate.to_signed_xml(key()).unwrap();
    let trusted = vec![key().certificate().clone()];
    let back = EntitiesDescriptor::parse_signed(signed.as_bytes(), &trusted, at("2026-06-01T00:00:00Z")).unwrap();
    assert_eq!(back.name.as_deref(), Some("urn:example:federation"));
    assert_eq!(back.entities.len(), 2);
    assert_eq!(
        back.find_entity("https://sp.example.com").unwrap().sp.as_ref().unwrap().assertion_consumer_services.len(),
        1
    );
    // The aggregate's validUntil applies to its entities, which have none of their own here...
    assert_eq!(back.find_entity("https://sp.example.com").unwrap().valid_until, aggregate.valid_until);
    // ...and the earlier of the two wins when an entity has its own.
    assert_eq!(back.find_entity("https://hub.example.com/saml").unwrap().valid_until, aggregate.valid_until);

    let err = EntitiesDescriptor::parse_signed(signed.as_bytes(), &trusted, at("2027-01-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, MetadataError::Expired { .. }), "{err:?}");
    assert!(err.to_string().contains("urn:example:federation"), "{err}");

    let tampered = signed.replacen("https://sp.example.com/acs", "https://evil.example.com/acs", 1);
    let err = EntitiesDescriptor::parse_signed(tampered.as_bytes(), &trusted, at("2026-06-01T00:00:00Z")).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::DigestMismatch));
}

fn xmlsec1_verify(dir: &std::path::Path, xml: &str, id_node: &str) -> std::process::Output {
    let cert = dir.join("cert.pem");
    std::fs::write(&cert, key().certificate().to_pem()).unwrap();
    let file = dir.join("metadata.xml");
    std::fs::write(&file, xml).unwrap();
    crossfed_testkit::xmlsec1_verify(&cert, &[id_node], &file)
}

#[test]
fn xmlsec1_verifies_our_signed_metadata() {
    let dir = temp_dir();
    let entity = rich_entity();
    let aggregate = EntitiesDescriptor::new(vec![entity.clone()]);
    let cases = [
        (entity.to_signed_xml(key()).unwrap(), "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"),
        (aggregate.to_signed_xml(key()).unwrap(), "urn:oasis:names:tc:SAML:2.0:metadata:EntitiesDescriptor"),
    ];
    for (signed, id_node) in cases {
        let out = xmlsec1_verify(dir.path(), &signed, id_node);
        assert!(
            out.status.success(),
            "xmlsec1 rejected our metadata:\n{}\n{signed}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tampered = signed.replacen("https://hub.example.com/saml/sso", "https://evil.example.com/sso", 1);
        let out = xmlsec1_verify(dir.path(), &tampered, id_node);
        assert!(!out.status.success(), "xmlsec1 accepted tampered metadata");
    }
}

// ---------------------------------------------------------------------------------------------
// Validity
// ---------------------------------------------------------------------------------------------

#[test]
fn expired_metadata_is_reported_with_a_fixed_now() {
    let entity = EntityDescriptor::parse(AWS_SIGNIN.as_bytes()).unwrap();
    assert_eq!(entity.check_valid_at(at("2035-06-29T23:59:59Z")), Ok(()));
    let now = at("2035-07-01T00:00:00Z");
    let err = entity.check_valid_at(now).unwrap_err();
    assert_eq!(
        err,
        MetadataError::Expired {
            what: "the metadata of urn:amazon:webservices".to_string(),
            valid_until: at("2035-06-30T00:00:00Z"),
            now
        }
    );
    let message = err.to_string();
    assert!(message.contains("expired at 2035-06-30T00:00:00Z"), "{message}");
    assert!(message.contains("fetch a fresh copy"), "{message}");

    // parse_signed checks it too.
    let mut signed_entity = rich_entity();
    signed_entity.valid_until = Some(at("2026-01-01T00:00:00Z"));
    let signed = signed_entity.to_signed_xml(key()).unwrap();
    let err =
        EntityDescriptor::parse_signed(signed.as_bytes(), &[key().certificate().clone()], at("2026-01-02T00:00:00Z"))
            .unwrap_err();
    assert!(matches!(err, MetadataError::Expired { .. }), "{err:?}");

    // No validUntil: nothing to expire.
    let entra = EntityDescriptor::parse(ENTRA.as_bytes()).unwrap();
    assert_eq!(entra.check_valid_at(at("2099-01-01T00:00:00Z")), Ok(()));
}

#[test]
fn role_validity_narrows_the_entity_validity() {
    let xml = sp_metadata(
        r#"<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" validUntil="2026-03-01T00:00:00Z">
             <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/>
           </md:SPSSODescriptor>"#,
    )
    .replace("entityID=", "validUntil=\"2027-01-01T00:00:00Z\" entityID=");
    let entity = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    assert_eq!(entity.valid_until, Some(at("2026-03-01T00:00:00Z")));
}

// ---------------------------------------------------------------------------------------------
// Aggregates
// ---------------------------------------------------------------------------------------------

fn sp_entity_xml(entity_id: &str, extra_attributes: &str) -> String {
    format!(
        r#"<md:EntityDescriptor entityID="{entity_id}" {extra_attributes}>
             <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
               <md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{entity_id}/acs" index="0"/>
             </md:SPSSODescriptor>
           </md:EntityDescriptor>"#
    )
}

#[test]
fn aggregates_with_several_entities_and_find_entity() {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
        <md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" Name="urn:example:fed" validUntil="2026-12-31T00:00:00Z" cacheDuration="PT1H">
          <md:Extensions><x:Publisher xmlns:x="urn:example:ext">someone</x:Publisher></md:Extensions>
          {}
          <md:EntitiesDescriptor Name="urn:example:fed:nested" validUntil="2026-09-01T00:00:00Z">
            {}
            {}
          </md:EntitiesDescriptor>
        </md:EntitiesDescriptor>"#,
        sp_entity_xml("https://a.example.com", ""),
        sp_entity_xml("https://b.example.com", "validUntil=\"2026-10-01T00:00:00Z\" cacheDuration=\"PT5M\""),
        sp_entity_xml("https://c.example.com", "validUntil=\"2026-08-01T00:00:00Z\""),
    );
    let aggregate = EntitiesDescriptor::parse(xml.as_bytes()).unwrap();
    assert_eq!(aggregate.name.as_deref(), Some("urn:example:fed"));
    assert_eq!(aggregate.cache_duration.as_deref(), Some("PT1H"));
    let ids: Vec<&str> = aggregate.entities.iter().map(|e| e.entity_id.as_str()).collect();
    assert_eq!(ids, ["https://a.example.com", "https://b.example.com", "https://c.example.com"]);

    let a = aggregate.find_entity("https://a.example.com").unwrap();
    assert_eq!(a.valid_until, Some(at("2026-12-31T00:00:00Z")));
    assert_eq!(a.cache_duration.as_deref(), Some("PT1H"));
    let b = aggregate.find_entity("https://b.example.com").unwrap();
    assert_eq!(b.valid_until, Some(at("2026-09-01T00:00:00Z")), "the nested aggregate's earlier validUntil applies");
    assert_eq!(b.cache_duration.as_deref(), Some("PT5M"));
    let c = aggregate.find_entity("https://c.example.com").unwrap();
    assert_eq!(c.valid_until, Some(at("2026-08-01T00:00:00Z")));
    assert_eq!(c.require_sp().unwrap().default_acs(BINDING_HTTP_POST).unwrap().location, "https://c.example.com/acs");

    // One stale entity does not make the aggregate stale.
    assert_eq!(aggregate.check_valid_at(at("2026-08-15T00:00:00Z")), Ok(()));
    assert!(c.check_valid_at(at("2026-08-15T00:00:00Z")).is_err());

    let err = aggregate.find_entity("https://d.example.com").unwrap_err();
    assert!(matches!(err, MetadataError::EntityNotFound { count: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("https://a.example.com"), "{err}");

    let err = EntityDescriptor::parse(xml.as_bytes()).unwrap_err();
    assert!(matches!(err, MetadataError::MultipleEntities { count: 3, .. }), "{err:?}");
    assert!(err.to_string().contains("find_entity"), "{err}");

    // Written out and read back, the same entities come back.
    let back = EntitiesDescriptor::parse(aggregate.to_xml().as_bytes()).unwrap();
    assert_eq!(back, aggregate);
}

#[test]
fn an_aggregate_of_one_reads_as_that_entity() {
    let xml = format!(
        "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\">{}</md:EntitiesDescriptor>",
        sp_entity_xml("https://only.example.com", "")
    );
    let entity = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    assert_eq!(entity.entity_id, "https://only.example.com");
    // And a single entity reads as an aggregate of one.
    let aggregate = EntitiesDescriptor::parse(AWS_SIGNIN.as_bytes()).unwrap();
    assert_eq!(aggregate.entities.len(), 1);
    assert!(aggregate.find_entity("urn:amazon:webservices").is_ok());
}

// ---------------------------------------------------------------------------------------------
// Reading details
// ---------------------------------------------------------------------------------------------

fn sp_metadata(role: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.example.com">{role}</md:EntityDescriptor>"#
    )
}

fn key_descriptor(use_attribute: &str, base64: &str) -> String {
    format!(
        "<md:KeyDescriptor {use_attribute}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
    )
}

const ACS: &str = r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" index="0"/>"#;

fn sp_role(inner: &str) -> String {
    sp_metadata(&format!(
        r#"<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{inner}</md:SPSSODescriptor>"#
    ))
}

#[test]
fn a_key_descriptor_without_use_serves_both() {
    let cert = key().certificate().to_base64();
    // Wrapped base64, as many publishers write it.
    let wrapped: String =
        cert.as_bytes().chunks(64).map(|c| format!("\n        {}", std::str::from_utf8(c).unwrap())).collect();
    let xml = sp_role(&format!(
        "{}{}{ACS}",
        key_descriptor("", &wrapped),
        key_descriptor("use=\"encryption\"", &other_key().certificate().to_base64())
    ));
    let sp = EntityDescriptor::parse(xml.as_bytes()).unwrap().sp.unwrap();
    assert_eq!(sp.signing_certificates, vec![key().certificate().clone()]);
    assert_eq!(sp.encryption_certificates, vec![key().certificate().clone(), other_key().certificate().clone()]);
}

#[test]
fn non_saml2_and_other_roles_are_skipped() {
    let xml = sp_metadata(&format!(
        r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">
             <md:SingleSignOnService Binding="urn:mace:shibboleth:1.0:profiles:AuthnRequest" Location="https://sp.example.com/shib"/>
           </md:IDPSSODescriptor>
           <md:AttributeAuthorityDescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>
           <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol urn:oasis:names:tc:SAML:2.0:protocol">{ACS}</md:SPSSODescriptor>
           <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{ACS}</md:SPSSODescriptor>"#
    ));
    let entity = EntityDescriptor::parse(xml.as_bytes()).unwrap();
    assert!(entity.idp.is_none());
    assert!(entity.sp.is_some());
    assert_eq!(entity.skipped_roles.len(), 3);
    assert!(entity.skipped_roles[0].contains("SAML:1.1:protocol"));
    assert_eq!(entity.skipped_roles[1], "md:AttributeAuthorityDescriptor");
    assert!(entity.skipped_roles[2].contains("second"));
    let err = entity.require_idp().unwrap_err();
    assert!(err.to_string().contains("not SAML 2.0"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// One test per error
// ---------------------------------------------------------------------------------------------

fn parse_err(xml: &str) -> MetadataError {
    EntityDescriptor::parse(xml.as_bytes()).unwrap_err()
}

fn assert_mentions(err: &MetadataError, words: &[&str]) {
    let message = err.to_string();
    for word in words {
        assert!(message.contains(word), "{word:?} missing from: {message}");
    }
}

#[test]
fn error_not_xml() {
    let err = parse_err("<html><body>Sign in</body>");
    assert!(matches!(err, MetadataError::Xml(_)), "{err:?}");
    assert_mentions(&err, &["not acceptable XML"]);
    let err = parse_err("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>");
    assert!(matches!(err, MetadataError::Xml(crossfed_xml::XmlError::Doctype)), "{err:?}");
}

#[test]
fn error_wrong_root() {
    let err = parse_err(r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r"/>"#);
    assert_eq!(
        err,
        MetadataError::WrongRoot {
            found: "samlp:Response".to_string(),
            namespace: "urn:oasis:names:tc:SAML:2.0:protocol".to_string()
        }
    );
    assert_mentions(&err, &["samlp:Response", "md:EntityDescriptor"]);
    // Right name, wrong namespace.
    let err = parse_err(r#"<EntityDescriptor entityID="x"/>"#);
    assert!(matches!(err, MetadataError::WrongRoot { .. }), "{err:?}");
    // Signed parsing checks the root before the signature.
    let err = EntityDescriptor::parse_signed(b"<html/>", &[key().certificate().clone()], at("2026-01-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, MetadataError::WrongRoot { .. }), "{err:?}");
}

#[test]
fn error_missing_entity_id() {
    let err = parse_err(r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>"#);
    assert!(matches!(err, MetadataError::MissingEntityId { .. }), "{err:?}");
    assert_mentions(&err, &["entityID", "root md:EntityDescriptor"]);
    let err = parse_err(&format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}<md:EntityDescriptor entityID="  "/></md:EntitiesDescriptor>"#,
        sp_entity_xml("https://a.example.com", "")
    ));
    assert!(matches!(err, MetadataError::MissingEntityId { .. }), "{err:?}");
    assert_mentions(&err, &["#2 of the aggregate"]);
}

#[test]
fn error_bad_certificate() {
    let err = parse_err(&sp_role(&format!(
        "{}{}{ACS}",
        key_descriptor("use=\"signing\"", &key().certificate().to_base64()),
        key_descriptor("use=\"signing\"", "not*base64")
    )));
    match &err {
        MetadataError::BadCertificate { entity_id, role, position, usage, .. } => {
            assert_eq!(
                (entity_id.as_str(), *role, *position, usage.as_str()),
                ("https://sp.example.com", "SPSSODescriptor", 2, "signing")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_mentions(&err, &["KeyDescriptor #2", "SPSSODescriptor", "https://sp.example.com", "base64"]);

    // Valid base64, but not a certificate.
    let err = parse_err(&sp_role(&format!("{}{ACS}", key_descriptor("", "aGVsbG8gd29ybGQ="))));
    assert!(matches!(err, MetadataError::BadCertificate { position: 1, .. }), "{err:?}");
    assert_mentions(&err, &["not a DER X.509 certificate", "signing and encryption"]);

    // Only a KeyName: no certificate to take the key from.
    let err = parse_err(&sp_role(&format!(
        "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:KeyName>hub</ds:KeyName></ds:KeyInfo></md:KeyDescriptor>{ACS}"
    )));
    assert!(matches!(err, MetadataError::BadCertificate { .. }), "{err:?}");
    assert_mentions(&err, &["X509Certificate"]);

    // A comment inside the certificate text is refused, not skipped.
    let cert = key().certificate().to_base64();
    let (head, tail) = cert.split_at(40);
    let err =
        parse_err(&sp_role(&format!("{}{ACS}", key_descriptor("use=\"signing\"", &format!("{head}<!-- x -->{tail}")))));
    assert!(matches!(err, MetadataError::BadCertificate { .. }), "{err:?}");
    assert_mentions(&err, &["comment"]);
}

#[test]
fn error_missing_location_or_binding() {
    let err = parse_err(&sp_role(
        r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" index="0"/>"#,
    ));
    assert_eq!(
        err,
        MetadataError::MissingAttribute {
            location: "md:AssertionConsumerService #1 of the SPSSODescriptor of https://sp.example.com".to_string(),
            attribute: "Location"
        }
    );
    assert_mentions(&err, &["Location", "AssertionConsumerService #1"]);

    let err = parse_err(&sp_role(&format!(r#"{ACS}<md:SingleLogoutService Location="https://sp.example.com/slo"/>"#)));
    assert!(matches!(err, MetadataError::MissingAttribute { attribute: "Binding", .. }), "{err:?}");
    assert_mentions(&err, &["SingleLogoutService #1", "Binding"]);

    let err = parse_err(&sp_role(
        r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs"/>"#,
    ));
    assert!(matches!(err, MetadataError::MissingAttribute { attribute: "index", .. }), "{err:?}");
}

#[test]
fn error_invalid_attribute() {
    let acs_with = |attributes: &str| {
        format!(
            r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example.com/acs" {attributes}/>"#
        )
    };
    let err = parse_err(&sp_role(&acs_with("index=\"70000\"")));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "index", .. }), "{err:?}");
    assert_mentions(&err, &["70000", "0 to 65535"]);

    let err = parse_err(&sp_role(&format!("{}{}", acs_with("index=\"1\""), acs_with("index=\"1\""))));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "index", .. }), "{err:?}");
    assert_mentions(&err, &["#2", "unique"]);

    let err = parse_err(&sp_role(&acs_with("index=\"0\" isDefault=\"yes\"")));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "isDefault", .. }), "{err:?}");
    assert_mentions(&err, &["true or false"]);

    let err = parse_err(&sp_metadata(&format!(
        r#"<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAssertionsSigned="Yes">{ACS}</md:SPSSODescriptor>"#
    )));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "WantAssertionsSigned", .. }), "{err:?}");

    let err =
        parse_err(&sp_role(&format!("{}{ACS}", key_descriptor("use=\"sign\"", &key().certificate().to_base64()))));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "use", .. }), "{err:?}");
    assert_mentions(&err, &["\"signing\" or \"encryption\"", "KeyDescriptor #1"]);

    let err = parse_err(&sp_role(ACS).replace("entityID=", "cacheDuration=\"6 hours\" entityID="));
    assert!(matches!(err, MetadataError::InvalidAttribute { attribute: "cacheDuration", .. }), "{err:?}");
    assert_mentions(&err, &["xs:duration", "PT6H"]);
}

#[test]
fn error_missing_endpoint() {
    let err = parse_err(&sp_role(""));
    assert_eq!(
        err,
        MetadataError::MissingEndpoint {
            entity_id: "https://sp.example.com".to_string(),
            role: "SPSSODescriptor",
            element: "AssertionConsumerService"
        }
    );
    let err = parse_err(&sp_metadata(
        r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>"#,
    ));
    assert!(matches!(err, MetadataError::MissingEndpoint { element: "SingleSignOnService", .. }), "{err:?}");
    assert_mentions(&err, &["SingleSignOnService", "Binding and Location"]);
}

#[test]
fn error_bad_valid_until() {
    let err = parse_err(&sp_role(ACS).replace("entityID=", "validUntil=\"next tuesday\" entityID="));
    assert!(matches!(err, MetadataError::BadValidUntil { .. }), "{err:?}");
    assert_mentions(&err, &["next tuesday", "2030-01-31T12:00:00Z"]);
    let err = parse_err(&sp_role(ACS).replace("entityID=", "validUntil=\"2026-01-01T00:00:00\" entityID="));
    assert!(matches!(err, MetadataError::BadValidUntil { .. }), "a time without zone is ambiguous: {err:?}");
}

#[test]
fn error_expired() {
    let entity = EntityDescriptor::parse(
        sp_role(ACS).replace("entityID=", "validUntil=\"2026-01-01T00:00:00Z\" entityID=").as_bytes(),
    )
    .unwrap();
    let err = entity.check_valid_at(at("2026-01-01T00:00:00Z")).unwrap_err();
    assert!(matches!(err, MetadataError::Expired { .. }), "{err:?}");
    assert_mentions(&err, &["https://sp.example.com", "expired at 2026-01-01T00:00:00Z"]);
    assert_eq!(entity.check_valid_at(at("2025-12-31T23:59:59Z")), Ok(()));
}

#[test]
fn error_missing_role() {
    let entity = EntityDescriptor::parse(sp_metadata("").as_bytes()).unwrap();
    let err = entity.require_idp().unwrap_err();
    assert_eq!(
        err,
        MetadataError::MissingRole {
            entity_id: "https://sp.example.com".to_string(),
            wanted: "SAML 2.0 identity-provider role (md:IDPSSODescriptor)",
            found: "no role descriptors at all".to_string(),
            hint: "",
        }
    );
    assert_mentions(&err, &["no role descriptors at all", "IDPSSODescriptor"]);
}

#[test]
fn error_signature() {
    let trusted = vec![key().certificate().clone()];
    let err = EntityDescriptor::parse_signed(ENTRA.as_bytes(), &trusted, at("2026-06-01T00:00:00Z")).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::UntrustedCertificate));
    assert_mentions(&err, &["signature does not verify", "metadata-signing certificate"]);
    let err = EntityDescriptor::parse_signed(ENTRA.as_bytes(), &[], at("2026-06-01T00:00:00Z")).unwrap_err();
    assert_eq!(err, MetadataError::Signature(DsigError::NoTrustedCertificates));
}

#[test]
fn error_multiple_entities_not_found_none_and_duplicates() {
    let agg = |inner: String| {
        format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{inner}</md:EntitiesDescriptor>"#
        )
    };
    let two =
        agg(format!("{}{}", sp_entity_xml("https://a.example.com", ""), sp_entity_xml("https://b.example.com", "")));
    assert!(matches!(parse_err(&two), MetadataError::MultipleEntities { count: 2, .. }));

    let err = EntitiesDescriptor::parse(two.as_bytes()).unwrap().find_entity("https://c.example.com").unwrap_err();
    assert!(matches!(err, MetadataError::EntityNotFound { .. }), "{err:?}");
    assert_mentions(&err, &["https://c.example.com", "2 entities"]);

    let err = EntitiesDescriptor::parse(agg(String::new()).as_bytes()).unwrap_err();
    assert_eq!(err, MetadataError::NoEntities);

    let dup =
        agg(format!("{}{}", sp_entity_xml("https://a.example.com", ""), sp_entity_xml("https://a.example.com", "")));
    let err = EntitiesDescriptor::parse(dup.as_bytes()).unwrap_err();
    assert_eq!(err, MetadataError::DuplicateEntity { entity_id: "https://a.example.com".to_string() });
    assert_mentions(&err, &["described twice"]);
}

#[test]
fn error_signing_needs_an_id() {
    let mut entity = rich_entity();
    entity.id = None;
    let err = entity.to_signed_xml(key()).unwrap_err();
    assert_eq!(err, MetadataError::MissingId { what: "https://hub.example.com/saml".to_string() });
    assert_mentions(&err, &["no ID attribute"]);
    let mut aggregate = EntitiesDescriptor::new(vec![rich_entity()]);
    aggregate.id = None;
    assert!(matches!(aggregate.to_signed_xml(key()), Err(MetadataError::MissingId { .. })));
}
