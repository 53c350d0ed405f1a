#!/usr/bin/python3
# Hostile: loops forever without ever writing a byte.
while True:
    pass
