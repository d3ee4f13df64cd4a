#!/usr/bin/env python3
"""Writes an OBO 1.4 file shaped like a real OBO Foundry release (hp.obo, chebi.obo): a
header with subsets, synonym types and imports; term frames with names, namespaces,
definitions with xrefs, synonyms of every scope, xrefs, is_a, relationships, property
values, creation dates, some obsolete with replacements; typedef frames.

Usage: bench/gen/obo.py OUT SIZE_MB [SEED]
"""
import random
import sys

out, size_mb = sys.argv[1], float(sys.argv[2])
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 11)
words = ("abnormal morphology of the cardiac ventricle lateral medial proximal distal increased "
         "decreased aplasia hypoplasia cell tissue organ process regulation binding activity "
         "membrane nucleus receptor kinase transport development neural renal hepatic").split()
scopes = ["EXACT", "BROAD", "NARROW", "RELATED"]
target = int(size_mb * 1024 * 1024)

def phrase(n):
    return " ".join(random.choice(words) for _ in range(n))

with open(out, "w", encoding="utf-8") as f:
    f.write("format-version: 1.2\n")
    f.write("data-version: hp/releases/2026-01-01\n")
    f.write("subsetdef: hposlim_core \"Core clinical terminology\"\n")
    f.write("synonymtypedef: layperson \"layperson term\"\n")
    f.write("default-namespace: human_phenotype\n")
    f.write("ontology: hp\n")
    f.write("import: http://purl.obolibrary.org/obo/ro.owl\n")
    f.write("property_value: http://purl.org/dc/elements/1.1/title \"Human Phenotype Ontology\" xsd:string\n\n")
    written, i = f.tell(), 1
    while written < target:
        lines = ["[Term]", f"id: HP:{i:07d}", f"name: {phrase(4)}"]
        if random.random() < 0.1:
            lines.append(f"alt_id: HP:{i + 5000000:07d}")
        lines.append(f"def: \"{phrase(18)}.\" [PMID:{random.randrange(10**7)}, ORCID:0000-0002-{random.randrange(10**4):04d}-{random.randrange(10**4):04d}]")
        if random.random() < 0.3:
            lines.append(f"comment: {phrase(12)}.")
        if random.random() < 0.2:
            lines.append("subset: hposlim_core")
        for _ in range(random.randrange(4)):
            kind = " layperson" if random.random() < 0.2 else ""
            lines.append(f"synonym: \"{phrase(3)}\" {random.choice(scopes)}{kind} [PMID:{random.randrange(10**7)}]")
        for _ in range(random.randrange(3)):
            lines.append(f"xref: UMLS:C{random.randrange(10**7):07d}")
        obsolete = i > 10 and random.random() < 0.03
        if obsolete:
            lines.append("is_obsolete: true")
            lines.append(f"replaced_by: HP:{random.randrange(1, i):07d}")
        else:
            for _ in range(1 + (random.random() < 0.2)):
                parent = random.randrange(1, i) if i > 1 else 1
                if parent != i:
                    lines.append(f"is_a: HP:{parent:07d} ! {phrase(3)}")
            if random.random() < 0.15 and i > 1:
                lines.append(f"relationship: part_of HP:{random.randrange(1, i):07d} ! {phrase(2)}")
        lines.append(f"property_value: IAO:0000233 \"https://github.com/obophenotype/issues/{random.randrange(10**4)}\" xsd:anyURI")
        lines.append(f"created_by: curator{random.randrange(40)}")
        lines.append("creation_date: 2012-04-13T11:24:31Z")
        text = "\n".join(lines) + "\n\n"
        f.write(text)
        written += len(text.encode())
        i += 1
    f.write("[Typedef]\nid: part_of\nname: part of\nxref: BFO:0000050\nis_transitive: true\n\n")
    f.write("[Typedef]\nid: has_part\nname: has part\nxref: BFO:0000051\ninverse_of: part_of\n")
