"""pysaml2 as an identity provider (saml2.server.Server).

Input fields (JSON on stdin):
  action            "respond": issue a Response to the SP's assertion consumer service;
                    "parse_request": read an AuthnRequest the SP sent.
  entity_id, sso_url, key_file, cert_file, sp_metadata_file

  respond:  sp_entity_id, acs_url, in_response_to (null for IdP-initiated login),
            name_id {"value", "format"}, identity {attribute name: [values]},
            sign_assertion, sign_response, pysaml2_default_algorithms (sign with
            pysaml2's defaults, RSA-SHA1 and SHA-1, instead of RSA-SHA256 and SHA-256)
  parse_request: binding ("redirect" or "post"), saml_request (the SAMLRequest value,
            already URL-decoded), relay_state, sig_alg, signature (Redirect signature
            parameters, URL-decoded, or null), want_authn_requests_signed

Output (JSON on stdout):
  respond:        {"response_xml"}
  parse_request:  {"accepted": bool, "error", "id", "issuer", "acs_url", "destination",
                   "protocol_binding", "name_id_format", "force_authn", "issue_instant_ok"}
"""

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NameID
from saml2.server import Server

from pysaml2_common import RSA_SHA256, SHA256, base_config, describe, read_input, write_output


def server(request):
    config = base_config(request["entity_id"], request["key_file"], request["cert_file"], request["sp_metadata_file"])
    sso_url = request["sso_url"]
    config["service"] = {
        "idp": {
            "endpoints": {
                "single_sign_on_service": [(sso_url, BINDING_HTTP_REDIRECT), (sso_url, BINDING_HTTP_POST)],
            },
            "want_authn_requests_signed": bool(request.get("want_authn_requests_signed", False)),
            # Release every attribute given, named by URI, valid for five minutes.
            "policy": {
                "default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None, "name_form": NAME_FORMAT_URI}
            },
        }
    }
    if not request.get("pysaml2_default_algorithms"):
        config["service"]["idp"]["signing_algorithm"] = RSA_SHA256
        config["service"]["idp"]["digest_algorithm"] = SHA256
    idp_config = IdPConfig()
    idp_config.load(config)
    return Server(config=idp_config)


def respond(request):
    idp = server(request)
    name_id = NameID(format=request["name_id"]["format"], text=request["name_id"]["value"])
    response = idp.create_authn_response(
        request["identity"],
        request.get("in_response_to"),
        request["acs_url"],
        request["sp_entity_id"],
        name_id=name_id,
        authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
        sign_assertion=bool(request["sign_assertion"]),
        sign_response=bool(request["sign_response"]),
    )
    return {"response_xml": str(response)}


def parse_request(request):
    idp = server(request)
    binding = {"redirect": BINDING_HTTP_REDIRECT, "post": BINDING_HTTP_POST}[request["binding"]]
    try:
        parsed = idp.parse_authn_request(
            request["saml_request"],
            binding,
            relay_state=request.get("relay_state"),
            sigalg=request.get("sig_alg"),
            signature=request.get("signature"),
        )
    except Exception as error:  # every refusal pysaml2 raises is a refusal to report
        return {"accepted": False, "error": describe(error)}
    if parsed is None:
        return {"accepted": False, "error": "parse_authn_request returned None"}
    message = parsed.message
    policy = message.name_id_policy
    return {
        "accepted": True,
        "error": None,
        "id": message.id,
        "issuer": parsed.sender(),
        "acs_url": message.assertion_consumer_service_url,
        "destination": message.destination,
        "protocol_binding": message.protocol_binding,
        "name_id_format": policy.format if policy is not None else None,
        "force_authn": message.force_authn,
        "issue_instant_ok": bool(parsed.issue_instant_ok()),
    }


def main():
    request = read_input()
    actions = {"respond": respond, "parse_request": parse_request}
    write_output(actions[request["action"]](request))


if __name__ == "__main__":
    main()
