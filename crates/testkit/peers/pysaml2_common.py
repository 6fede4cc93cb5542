"""Shared plumbing for the pysaml2 peer scripts the crossfed test suite drives.

Each script reads one JSON object on stdin and writes one JSON object on stdout. A refusal
by pysaml2 is a normal answer (reported in the JSON, exit status 0); a non-zero exit status
means the script itself could not run (bad input, pysaml2 missing).
"""

import json
import shutil
import sys

# pysaml2 signs with RSA-SHA1 and SHA-1 digests unless told otherwise.
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def read_input():
    """The request object the test wrote on stdin."""
    return json.load(sys.stdin)


def write_output(result):
    """Writes the answer object for the test to read."""
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


def describe(error):
    """A one-line description of an exception pysaml2 raised."""
    return f"{type(error).__name__}: {error}"


def base_config(entity_id, key_file, cert_file, metadata_file):
    """The settings every peer needs: its identity, its key pair, and the other side's metadata."""
    config = {
        "entityid": entity_id,
        # None before the other side's metadata exists (exporting this side's own).
        "metadata": {"local": [metadata_file] if metadata_file else []},
        "xmlsec_binary": shutil.which("xmlsec1"),
        # Times are stamped by the real clock on both sides; allow a little drift.
        "accepted_time_diff": 60,
    }
    if key_file:
        config["key_file"] = key_file
    if cert_file:
        config["cert_file"] = cert_file
    return config
