#!/bin/sh
# A shell CGI script: proves the runner honours any #! interpreter.
echo "Content-Type: text/plain"
echo "X-Shell: yes"
echo ""
echo "hello from sh"
echo "query=$QUERY_STRING"
echo "method=$REQUEST_METHOD"
