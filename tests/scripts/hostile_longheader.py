#!/usr/bin/python3
# Hostile: a header line of 1 MiB.
import sys

sys.stdout.write("Content-Type: text/plain\n")
sys.stdout.write("X-Big: " + "a" * (1 << 20) + "\n")
sys.stdout.write("\n")
sys.stdout.write("body after a 1 MiB header\n")
