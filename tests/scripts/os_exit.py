#!/usr/bin/python3
# A complete response, then os._exit(): ends the script, never the server.
import os, sys

print("Content-Type: text/plain")
print()
print("output before os._exit(0)")
sys.stdout.flush()
os._exit(0)
