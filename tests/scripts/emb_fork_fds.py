#!/usr/bin/python3
# Forks; the child reports (through a pipe) the local ports of the TCP
# sockets it holds, whether it could print to its stdout, and whether a
# socket the script opened itself before the fork is still there; it
# then exits.  The parent answers with that report as JSON.
import json, os, socket, sys

own = socket.socket()
own.bind(("127.0.0.1", 0))
own_port = own.getsockname()[1]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    ports = []
    for name in os.listdir("/proc/self/fd"):
        try:
            s = socket.socket(fileno=int(name))
        except OSError:
            continue
        try:
            if s.family in (socket.AF_INET, socket.AF_INET6):
                ports.append(s.getsockname()[1])
        finally:
            s.detach()
    try:
        print("CHILD-LEAK", flush=True)
        printed = "ok"
    except Exception as e:
        printed = type(e).__name__
    os.write(w, json.dumps({"ports": ports, "printed": printed}).encode())
    os._exit(0)
os.close(w)
data = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
report = json.loads(data)
report["own_port"] = own_port
print("Content-Type: application/json")
print()
print(json.dumps(report))
