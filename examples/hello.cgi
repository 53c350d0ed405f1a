#!/bin/sh
# hello.cgi - CGI is not only Python: any program that prints a header,
# an empty line and a body will do.  This one always runs by fork/exec.

echo "Content-type: text/html"
echo ""
echo "<html><head><title>Hello from the shell</title></head><body>"
echo "<h2>Hello World from /bin/sh!</h2>"
echo "<p>Server: $SERVER_SOFTWARE</p>"
echo "</body></html>"
