#!/usr/bin/python3
# Hostile: headers, but never the blank line that ends them.
import sys

sys.stdout.write("Content-Type: text/plain\nX-Partial: yes\n")
