#!/usr/bin/env python3
"""Writes the same graph (no blank nodes) as N-Triples, Turtle and RDF/XML, shaped like an
OBO ontology rendered to OWL: classes with labels, definitions, synonyms, xrefs and
subClassOf links. Usage: bench/gen/rdf.py OUTDIR TRIPLES [SEED]"""
import random
import sys

out, n = sys.argv[1], int(sys.argv[2])
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 3)
OBO = "http://purl.obolibrary.org/obo/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OIO = "http://www.geneontology.org/formats/oboInOwl#"
words = "abnormal morphology cardiac ventricle lateral medial increased decreased cell tissue organ process".split()

def phrase(k):
    return " ".join(random.choice(words) for _ in range(k))

with open(f"{out}/o.nt", "w") as nt, open(f"{out}/o.ttl", "w") as ttl, open(f"{out}/o.rdf", "w") as xml:
    ttl.write(f"@prefix obo: <{OBO}> .\n@prefix rdfs: <{RDFS}> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix oboInOwl: <{OIO}> .\n\n")
    xml.write(f'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="{RDFS}" xmlns:owl="http://www.w3.org/2002/07/owl#" xmlns:obo="{OBO}" xmlns:oboInOwl="{OIO}">\n')
    i, written = 0, 0
    while written < n:
        s = f"{OBO}X_{i:07d}"
        label, definition = phrase(3), phrase(12) + "."
        parent = f"{OBO}X_{random.randrange(max(i, 1)):07d}"
        syn, xref = phrase(2), f"UMLS:C{random.randrange(10**7):07d}"
        nt.write(f'<{s}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Class> .\n'
                 f'<{s}> <{RDFS}label> "{label}" .\n<{s}> <{OBO}IAO_0000115> "{definition}" .\n'
                 f'<{s}> <{OIO}hasExactSynonym> "{syn}" .\n<{s}> <{OIO}hasDbXref> "{xref}" .\n'
                 f'<{s}> <{RDFS}subClassOf> <{parent}> .\n')
        ttl.write(f'obo:X_{i:07d} a owl:Class ;\n    rdfs:label "{label}" ;\n    obo:IAO_0000115 "{definition}" ;\n'
                  f'    oboInOwl:hasExactSynonym "{syn}" ;\n    oboInOwl:hasDbXref "{xref}" ;\n    rdfs:subClassOf <{parent}> .\n\n')
        xml.write(f'<owl:Class rdf:about="{s}"><rdfs:label>{label}</rdfs:label><obo:IAO_0000115>{definition}</obo:IAO_0000115>'
                  f'<oboInOwl:hasExactSynonym>{syn}</oboInOwl:hasExactSynonym><oboInOwl:hasDbXref>{xref}</oboInOwl:hasDbXref>'
                  f'<rdfs:subClassOf rdf:resource="{parent}"/></owl:Class>\n')
        i += 1
        written += 6
    xml.write("</rdf:RDF>\n")
