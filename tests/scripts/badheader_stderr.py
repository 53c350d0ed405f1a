#!/usr/bin/python3
# Fails header parsing after writing to stderr: what ScriptLog is for.
import sys

sys.stderr.write("badheader-stderr-marker\n")
sys.stderr.flush()
print("Content-Type: text/plain")
print("no colon on this line either")
print()
print("never sent")
