"""An OWL ontology in RDF/XML shaped like ChEBI or NCBITaxon releases: N classes, each with a
label, a definition, a named parent, a `someValuesFrom` restriction (a blank node) and an
`owl:Axiom` annotation on its label (a blank node); every 50th class also has an
`owl:intersectionOf` list (three blank list cells). About 11 triples and 680 bytes per
class: 1.2 M classes are ~800 MB and ~13 M triples, ~2.6 M blank nodes.

Usage: python3 bench/gen/owl.py OUT.owl CLASSES [SEED]"""
import random
import sys

out, n = sys.argv[1], int(sys.argv[2])
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 5)
WORDS = "acid amine base cell chain compound cyclic ester group ion ketone lipid molecule oxide phenyl ring salt sugar".split()
OBO = "http://purl.obolibrary.org/obo/"


def cls(i):
    return f"{OBO}CHEBI_{i:07d}"


with open(out, "w", encoding="utf-8") as f:
    f.write(
        '<?xml version="1.0"?>\n'
        '<rdf:RDF xmlns="http://purl.obolibrary.org/obo/chebi.owl#" xml:base="http://purl.obolibrary.org/obo/chebi.owl"\n'
        '     xmlns:owl="http://www.w3.org/2002/07/owl#" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"\n'
        '     xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:obo="http://purl.obolibrary.org/obo/"\n'
        '     xmlns:oboInOwl="http://www.geneontology.org/formats/oboInOwl#">\n'
        '    <owl:Ontology rdf:about="http://purl.obolibrary.org/obo/chebi.owl">\n'
        '        <owl:versionIRI rdf:resource="http://purl.obolibrary.org/obo/chebi/245/chebi.owl"/>\n'
        "    </owl:Ontology>\n"
    )
    for i in range(1, n + 1):
        words = " ".join(random.choice(WORDS) for _ in range(3))
        parent = cls(random.randint(1, max(1, i - 1)))
        filler = cls(random.randint(1, n))
        f.write(f'    <owl:Class rdf:about="{cls(i)}">\n')
        f.write(f"        <rdfs:subClassOf rdf:resource=\"{parent}\"/>\n")
        f.write(
            "        <rdfs:subClassOf><owl:Restriction>"
            f'<owl:onProperty rdf:resource="{OBO}RO_0000087"/>'
            f'<owl:someValuesFrom rdf:resource="{filler}"/>'
            "</owl:Restriction></rdfs:subClassOf>\n"
        )
        if i % 50 == 0:
            f.write(
                "        <owl:equivalentClass><owl:Class><owl:intersectionOf rdf:parseType=\"Collection\">"
                f'<rdf:Description rdf:about="{parent}"/><rdf:Description rdf:about="{filler}"/>'
                f'<rdf:Description rdf:about="{cls(i)}"/>'
                "</owl:intersectionOf></owl:Class></owl:equivalentClass>\n"
            )
        f.write(f'        <obo:IAO_0000115>a {words} with property number {i}</obo:IAO_0000115>\n')
        f.write(f"        <rdfs:label>{words} {i}</rdfs:label>\n")
        f.write("    </owl:Class>\n")
        f.write(
            "    <owl:Axiom>"
            f'<owl:annotatedSource rdf:resource="{cls(i)}"/>'
            '<owl:annotatedProperty rdf:resource="http://www.w3.org/2000/01/rdf-schema#label"/>'
            f"<owl:annotatedTarget>{words} {i}</owl:annotatedTarget>"
            f"<oboInOwl:hasDbXref>PMID:{random.randint(1, 10**8)}</oboInOwl:hasDbXref>"
            "</owl:Axiom>\n"
        )
    f.write("</rdf:RDF>\n")
