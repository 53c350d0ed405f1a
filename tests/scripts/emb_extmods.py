#!/usr/bin/python3
# Uses a spread of C extension modules of the standard library, the kind
# that must survive the interpreter being recycled.
import array, ctypes, datetime, decimal, hashlib, json, pickle, select
import socket, sqlite3, ssl, unicodedata, zlib

con = sqlite3.connect(":memory:")
con.execute("create table t (x)")
con.execute("insert into t values (?)", (str(decimal.Decimal("1.10") * 3),))
result = {
    "sqlite": con.execute("select x from t").fetchone()[0],
    "ctypes": ctypes.c_int(41).value + 1,
    "zlib": zlib.crc32(b"pycgi"),
    "pickle": pickle.loads(pickle.dumps(array.array("i", [1, 2, 3]))).tolist(),
    "ssl": ssl.OPENSSL_VERSION.split()[0],
    "unicodedata": unicodedata.name("\u00e9"),
    "date": datetime.date(2020, 1, 1).isoformat(),
    "sha": hashlib.sha256(b"x").hexdigest()[:8],
    "select": hasattr(select, "poll"),
    "socket": socket.AF_INET == 2,
}
print("Content-Type: application/json")
print()
print(json.dumps(result, sort_keys=True))
