"""Writes SIZE_MB MiB of random base64 text (no ontology format: validation is a quick
sniff, so a pull or a serve of it measures the transport). Usage: text.py PATH SIZE_MB"""
import base64
import os
import sys

path, mb = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    for _ in range(mb):
        f.write(base64.b64encode(os.urandom(786432)))  # 1 MiB of text per step
