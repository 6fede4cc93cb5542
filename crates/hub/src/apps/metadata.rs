//! The IdP metadata the hub publishes toward each application: its entity ID for that
//! application, the single sign-on and logout endpoints, and the signing certificates (the
//! current one, and a staged next one during a rotation).

use crossfed_saml::{Endpoint, EntityDescriptor, ns};
use crossfed_xmldsig::Certificate;

/// The IdP entity ID the hub at `base_url` uses toward application `id`.
pub fn entity_id(base_url: &str, id: &str) -> String {
    format!("{base_url}/saml/apps/{id}")
}

/// The IdP metadata document of the hub at `base_url` for application `id`.
pub fn idp_metadata_xml(base_url: &str, id: &str, certificates: Vec<Certificate>) -> String {
    let sso = format!("{base_url}/saml/sso");
    let mut entity = EntityDescriptor::idp(
        entity_id(base_url, id),
        certificates,
        vec![Endpoint::post(&sso), Endpoint::redirect(&sso)],
    );
    if let Some(idp) = entity.idp.as_mut() {
        idp.name_id_formats = vec![ns::NAMEID_EMAIL.to_string(), ns::NAMEID_PERSISTENT.to_string()];
        idp.single_logout_services = vec![Endpoint::redirect(format!("{base_url}/saml/slo"))];
    }
    entity.to_xml()
}
