#!/usr/bin/python3
# Hostile: 4 KiB of binary garbage where the headers belong.
import random, sys

sys.stdout.buffer.write(random.Random(7).randbytes(4096))
