#!/usr/bin/python3
# A script run exec (as httpd's User) that talks to the daemon pools'
# sockets itself, as any local process of that user could: for each
# <rundir>/pycgi.*/N.sock it sends a request record (pycgi_proto.h) with
# a made-up pool token, three pipe fds (SCM_RIGHTS) and a script that
# would create a marker file, then reads the worker's reply record.
# QUERY_STRING: rundir=...&script=...&marker=...[&index=N]   Reports JSON.
import array, glob, json, os, socket, struct, urllib.parse

q = dict(urllib.parse.parse_qsl(os.environ.get("QUERY_STRING", "")))
MAGIC, VERSION = 0x50594347, 4
results = []
# "index": only that pool's socket (one with a live worker to answer).
name = "%s.sock" % q["index"] if "index" in q else "*.sock"
for path in sorted(glob.glob(os.path.join(q["rundir"], "pycgi.*", name))):
    res = {"socket": path}
    pipes = [os.pipe() for _ in range(3)]
    give = [pipes[0][0], pipes[1][1], pipes[2][1]]
    st = os.stat(q["script"])
    strings = [q["script"], os.path.dirname(q["script"]),
               "GET /forged HTTP/1.1", q["script"],
               "QUERY_STRING=" + q["marker"], "REQUEST_METHOD=GET",
               "GATEWAY_INTERFACE=CGI/1.1", "PATH=/usr/bin:/bin"]
    blob = b"".join(s.encode() + b"\0" for s in strings)
    head = struct.pack("=II16sIIIIqqQII6Q", MAGIC, VERSION, os.urandom(16),
                       len(blob), 1, len(strings) - 4, 0,
                       st.st_mtime_ns // 1000, st.st_size, st.st_ino,
                       0, 0, 0, 0, 0, 0, 0, 0)
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(path)
        s.sendmsg([head + blob], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", give))])
        reply = b""
        while len(reply) < 16:
            part = s.recv(16 - len(reply))
            if not part:
                break
            reply += part
        s.close()
        res["reply_bytes"] = len(reply)
        if len(reply) == 16:
            magic, kind, status, flags = struct.unpack("=IIiI", reply)
            res.update(magic=magic == MAGIC, kind=kind, status=status)
    except OSError as e:
        res["error"] = repr(e)
    for r, w in pipes:
        os.close(r)
        os.close(w)
    results.append(res)
print("Content-Type: application/json")
print()
print(json.dumps({"results": results, "uid": os.getuid(),
                  "marker_exists": os.path.exists(q["marker"])}))
