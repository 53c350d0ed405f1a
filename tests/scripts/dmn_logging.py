#!/usr/bin/python3
# logging.basicConfig() and one warning carrying QUERY_STRING: the record
# goes to stderr, i.e. the error log.
import logging, os

logging.basicConfig()
logging.warning("dmn-logging %s", os.environ.get("QUERY_STRING"))
print("Content-Type: text/plain")
print()
print("logged")
