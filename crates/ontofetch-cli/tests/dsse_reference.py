"""Verifies an ontofetch attestation with securesystemslib (PyPI), a DSSE and in-toto
implementation not written here: the envelope's signature under the Ed25519 public key,
then the statement's type and subjects. Prints one JSON document.

Usage: dsse_reference.py ENVELOPE.json KEYID PUBLIC_KEY_HEX
"""
import json
import sys

from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey


def main() -> None:
    path, keyid, public = sys.argv[1:4]
    envelope = Envelope.from_dict(json.load(open(path)))
    key = SSlibKey(keyid, "ed25519", "ed25519", {"public": public})
    try:
        verified = envelope.verify([key], 1)
    except Exception as e:  # securesystemslib.exceptions.VerificationError and kin
        print(json.dumps({"verified": False, "error": f"{type(e).__name__}: {e}"}))
        return
    statement = json.loads(envelope.payload)
    print(json.dumps({
        "verified": sorted(verified) == [keyid],
        "payload_type": envelope.payload_type,
        "statement_type": statement["_type"],
        "predicate_type": statement["predicateType"],
        "subjects": {s["name"]: s["digest"]["sha256"] for s in statement["subject"]},
    }))


if __name__ == "__main__":
    main()
