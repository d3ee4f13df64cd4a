"""What the `bioregistry` package itself answers for every prefix: the reference
`interop::registry_show_agrees_with_the_bioregistry_package` compares
`ontofetch registry show --json` with. Run by that test with target/py-venv's python,
where .ci/run installs the release the embedded snapshot was cut from.

Prints one JSON document: the SHA-256 of the package's bioregistry.json and, per
Bioregistry key, its getters' answers and the spellings of its names that
`bioregistry.normalize_prefix` resolves to it.
"""

import hashlib
import json
import os
import sys

import bioregistry
from bioregistry.resource_manager import manager

DATA = os.path.join(os.path.dirname(bioregistry.__file__), "data", "bioregistry.json")


def spellings(key, resource):
    """Ways users write the record's names: as curated, upper case, and with `_`, `-`,
    `.` and ` ` swapped for one another; only those the package resolves to `key`."""
    names = [key, *(resource.synonyms or [])]
    obo = (resource.obofoundry or {}).get("prefix")
    if obo:
        names.append(obo)
    out = set()
    for name in names:
        for v in {
            name,
            name.upper(),
            name.replace(".", "_"),
            name.replace("_", "-"),
            name.replace(".", "-").upper(),
            name.replace("_", " "),
        }:
            if bioregistry.normalize_prefix(v) == key:
                out.add(v)
    return sorted(out)


def main():
    with open(DATA, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    prefixes = {}
    for key, r in manager.registry.items():
        downloads = {
            "owl": bioregistry.get_owl_download(key),
            "obo": bioregistry.get_obo_download(key),
            "rdf": bioregistry.get_rdf_download(key),
            "skos": bioregistry.get_skos_download(key),
            "json": bioregistry.get_json_download(key),
        }
        prefixes[key] = {
            "name": bioregistry.get_name(key),
            "license": bioregistry.get_license(key),
            "deprecated": bioregistry.is_deprecated(key),
            "obo_prefix": (r.obofoundry or {}).get("prefix"),
            "downloads": {k: v for k, v in downloads.items() if v},
            "spellings": spellings(key, r),
        }
    json.dump({"sha256": sha256, "prefixes": prefixes}, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main()
