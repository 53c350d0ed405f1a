#!/usr/bin/python3
# The descriptors this process holds beyond 0-2, found by probing (a
# daemon worker cannot list /proc/self/fd), as JSON: for each open fd
# its kind, and for sockets the family, type and whether it listens.
import json, os, socket, stat

out = {}
for fd in range(3, 1024):
    try:
        st = os.fstat(fd)
    except OSError:
        continue
    kind = ("socket" if stat.S_ISSOCK(st.st_mode) else
            "fifo" if stat.S_ISFIFO(st.st_mode) else
            "file" if stat.S_ISREG(st.st_mode) else
            "dir" if stat.S_ISDIR(st.st_mode) else "other")
    info = {"kind": kind}
    if kind == "socket":
        s = socket.socket(fileno=os.dup(fd))
        try:
            info["family"] = s.family.name
            info["type"] = s.type.name
            info["listening"] = bool(s.getsockopt(socket.SOL_SOCKET,
                                                  socket.SO_ACCEPTCONN))
            try:
                info["peer"] = str(s.getpeername())
            except OSError:
                info["peer"] = None
        finally:
            s.close()
    out[fd] = info
print("Content-Type: application/json")
print()
print(json.dumps(out, sort_keys=True))
