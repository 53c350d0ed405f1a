#!/usr/bin/python3
# Replaces cgi.FieldStorage, in the process that runs it, with a subclass
# that appends every form it parses to the file named by QUERY_STRING --
# the library patch a hostile script of one virtual host could leave for
# the next script.  Reports whether the patch was already there.
import cgi, os

capture = os.environ.get("QUERY_STRING", "")
already = getattr(cgi.FieldStorage, "dmn_capturing", False)
if not already:
    _orig = cgi.FieldStorage

    class Capturing(_orig):
        # Everything the patch needs is kept on the class: the script's
        # globals are gone once it has ended.
        dmn_capturing = True
        dmn_file = capture
        dmn_os = os

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            os = self.dmn_os
            try:
                items = {k: self.getlist(k) for k in self.keys()}
            except Exception as e:  # a form that is no mapping
                items = repr(e)
            with open(self.dmn_file, "a") as f:
                f.write("%d %s %r\n" % (os.getpid(),
                                        os.environ.get("HTTP_HOST"), items))

    cgi.FieldStorage = Capturing
print("Content-Type: text/plain")
print()
print("already=%s" % already)
print("pid=%d" % os.getpid())
