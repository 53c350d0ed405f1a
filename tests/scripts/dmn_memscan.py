#!/usr/bin/python3
# Scans this process's own memory (every readable mapping of
# /proc/self/maps, read through /proc/self/mem, or process_vm_readv()
# on itself where /proc/self/mem cannot be opened) for a secret it is
# not told: QUERY_STRING "p=PREFIX&h=SHA256&n=LENGTH" gives the secret's
# first characters, its sha256 and its length.  Every place PREFIX occurs
# is checked by hashing the LENGTH bytes there, so the secret itself is
# never built by this script.  Reports JSON: how it read, regions and
# bytes scanned, prefix hits, matches.
import ctypes, hashlib, json, os, urllib.parse

q = dict(urllib.parse.parse_qsl(os.environ.get("QUERY_STRING", "")))
prefix = q["p"].encode()
want = q["h"]
n = int(q["n"])


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


libc = ctypes.CDLL(None, use_errno=True)
libc.process_vm_readv.restype = ctypes.c_ssize_t
libc.process_vm_readv.argtypes = [ctypes.c_int, ctypes.POINTER(IoVec),
                                  ctypes.c_ulong, ctypes.POINTER(IoVec),
                                  ctypes.c_ulong, ctypes.c_ulong]
PAGE = os.sysconf("SC_PAGE_SIZE")


def vm_read(lo, size):
    """process_vm_readv() on ourselves: EFAULT, never a crash, for pages
    that cannot be read (read page by page then)."""
    buf = ctypes.create_string_buffer(size)
    local, remote = IoVec(ctypes.addressof(buf), size), IoVec(lo, size)
    got = libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1,
                                ctypes.byref(remote), 1, 0)
    if got == size:
        return buf.raw
    parts = []
    for off in range(0, size, PAGE):
        local = IoVec(ctypes.addressof(buf) + off, PAGE)
        remote = IoVec(lo + off, PAGE)
        if libc.process_vm_readv(os.getpid(), ctypes.byref(local), 1,
                                 ctypes.byref(remote), 1, 0) == PAGE:
            parts.append(buf.raw[off:off + PAGE])
        else:
            parts.append(b"\0" * PAGE)
    return b"".join(parts)


try:
    mem = open("/proc/self/mem", "rb", 0)
    method = "/proc/self/mem"
except OSError as e:
    mem = None
    method = "process_vm_readv (/proc/self/mem: %s)" % e.strerror
regions = scanned = hits = found = errors = skipped = 0
with open("/proc/self/maps") as maps:
    lines = maps.read().splitlines()
for line in lines:
    fields = line.split()
    lo, hi = (int(x, 16) for x in fields[0].split("-"))
    name = fields[5] if len(fields) > 5 else ""
    if fields[1][0] != "r" or name in ("[vvar]", "[vsyscall]"):
        continue
    if hi - lo > 1 << 30:
        # Reserved address space, not data: AddressSanitizer's shadow
        # (terabytes) in a sanitizer build.  Nothing else is this big.
        skipped += 1
        continue
    regions += 1
    piece = 64 << 20
    for start in range(lo, hi, piece):
        # Pieces overlap by n bytes: a secret across a boundary counts.
        size = min(hi, start + piece + n) - start
        try:
            if mem is not None:
                mem.seek(start)
                chunk = mem.read(size)
            else:
                chunk = vm_read(start, size)
        except (OSError, ValueError, OverflowError):
            errors += 1
            continue
        scanned += min(len(chunk), piece)
        i = chunk.find(prefix)
        while i >= 0:
            if i < piece:
                hits += 1
                if hashlib.sha256(chunk[i:i + n]).hexdigest() == want:
                    found += 1
            i = chunk.find(prefix, i + 1)
        del chunk
print("Content-Type: application/json")
print()
print(json.dumps({"pid": os.getpid(), "method": method, "regions": regions,
                  "scanned": scanned, "prefix_hits": hits,
                  "found": found, "errors": errors, "skipped": skipped}))
