"""RDFC-1.0 by pyld (PyPI), an implementation nobody here wrote: for each N-Triples or
N-Quads file named on the command line, prints the SHA-256 of its canonical N-Quads, one
per line. Used by `interop::canonical_hashes_equal_pyld_with_mixed_case_language_tags`;
pyld keeps language tags as written, as rdf-canonize (npm) does.
"""

import hashlib
import sys

from pyld import jsonld

for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    canonical = jsonld.normalize(
        text, {"algorithm": "URDNA2015", "inputFormat": "application/n-quads", "format": "application/n-quads"}
    )
    print(hashlib.sha256(canonical.encode("utf-8")).hexdigest())
