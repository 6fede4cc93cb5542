"""pysaml2 as a service provider (saml2.client.Saml2Client).

Input fields (JSON on stdin):
  action            "metadata": this SP's metadata, to give the IdP (idp_metadata_file optional);
                    "authn_request": create an AuthnRequest for the IdP;
                    "acs": receive a Response at the assertion consumer service (HTTP-POST).
  entity_id, acs_url, key_file, cert_file, idp_metadata_file, idp_entity_id
  binding           (authn_request) "redirect" (default) or "post"
  sign              (authn_request) sign the request: the query for Redirect, the XML for POST
  relay_state       (authn_request, redirect) the RelayState to send along
  idp_sso_url       (authn_request, post) where the request is addressed
  saml_response     (acs) the base64 form value of the POST binding
  outstanding       (acs) the ID of the AuthnRequest this login started with, or null
  allow_unsolicited, want_assertions_signed, want_response_signed   (acs) SP policy

Output (JSON on stdout):
  metadata:      {"metadata": the EntityDescriptor XML}
  authn_request: {"request_id", "location"} for Redirect (the URL with the query),
                 {"request_id", "request_xml"} for POST
  acs:           {"accepted": bool, "error", "issuer", "in_response_to", "name_id",
                  "name_id_format", "audiences", "attributes": [{"name", "name_format",
                  "friendly_name", "values"}]}
"""

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string

from pysaml2_common import RSA_SHA256, SHA256, base_config, describe, read_input, write_output


def client(request):
    config = base_config(
        request["entity_id"], request.get("key_file"), request.get("cert_file"), request.get("idp_metadata_file")
    )
    # Keep attributes that have no local name in pysaml2's attribute maps.
    config["allow_unknown_attributes"] = True
    config["service"] = {
        "sp": {
            "endpoints": {"assertion_consumer_service": [(request["acs_url"], BINDING_HTTP_POST)]},
            "allow_unsolicited": bool(request.get("allow_unsolicited", False)),
            "want_assertions_signed": bool(request.get("want_assertions_signed", False)),
            "want_response_signed": bool(request.get("want_response_signed", False)),
            # Whichever of the two is asked for above, something must be signed.
            "want_assertions_or_response_signed": True,
            "authn_requests_signed": bool(request.get("sign", False)),
            "signing_algorithm": RSA_SHA256,
            "digest_algorithm": SHA256,
        }
    }
    sp_config = SPConfig()
    sp_config.load(config)
    return Saml2Client(config=sp_config)


def metadata(request):
    sp = client(request)
    return {"metadata": create_metadata_string(None, config=sp.config, sign=False).decode()}


def authn_request(request):
    sp = client(request)
    sign = bool(request.get("sign", False))
    if request.get("binding", "redirect") == "post":
        request_id, xml = sp.create_authn_request(
            request["idp_sso_url"], sign=sign, sign_alg=RSA_SHA256, digest_alg=SHA256
        )
        return {"request_id": request_id, "request_xml": str(xml)}
    request_id, info = sp.prepare_for_authenticate(
        entityid=request["idp_entity_id"],
        relay_state=request.get("relay_state", ""),
        binding=BINDING_HTTP_REDIRECT,
        sign=sign,
        sigalg=RSA_SHA256,
    )
    location = dict(info["headers"])["Location"]
    return {"request_id": request_id, "location": location}


def text_of(element):
    return element.text.strip() if element is not None and element.text else None


def acs(request):
    sp = client(request)
    outstanding = {request["outstanding"]: "/"} if request.get("outstanding") else {}
    try:
        response = sp.parse_authn_request_response(request["saml_response"], BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as error:  # every refusal pysaml2 raises is a refusal to report
        return {"accepted": False, "error": describe(error)}
    # parse_authn_request_response may hand back None, or a response without an assertion,
    # instead of raising: both mean the response was not accepted.
    if response is None:
        return {"accepted": False, "error": "parse_authn_request_response returned None"}
    assertion = response.assertion
    if assertion is None:
        return {"accepted": False, "error": "the parsed response carries no accepted assertion"}

    attributes = []
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            attributes.append(
                {
                    "name": attribute.name,
                    "name_format": attribute.name_format,
                    "friendly_name": attribute.friendly_name,
                    "values": [value.text for value in attribute.attribute_value],
                }
            )
    audiences = [
        text_of(audience)
        for restriction in assertion.conditions.audience_restriction
        for audience in restriction.audience
    ]
    name_id = response.name_id
    return {
        "accepted": True,
        "error": None,
        "issuer": text_of(assertion.issuer),
        "in_response_to": response.response.in_response_to,
        "name_id": text_of(name_id),
        "name_id_format": name_id.format if name_id is not None else None,
        "audiences": audiences,
        "attributes": attributes,
    }


def main():
    request = read_input()
    actions = {"metadata": metadata, "authn_request": authn_request, "acs": acs}
    write_output(actions[request["action"]](request))


if __name__ == "__main__":
    main()
