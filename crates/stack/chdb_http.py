#!/usr/bin/env python3
"""Test harness: a real ClickHouse 26 engine (chdb) behind a minimal HTTP front.

This is NOT a ClickHouse server. The statements run in a real, current ClickHouse engine --
PyPI's `chdb-core` (pin: chdb-core==26.9.0, ClickHouse 26.9 in-process) -- and this file
only speaks the subset of ClickHouse's HTTP interface that the Rust `clickhouse` crate 0.15
uses, so the Rust tests can run a second time against today's ClickHouse with row
validation on (`RowBinaryWithNamesAndTypes`), which the ClickHouse 18.16 test server lacks.

    python3 chdb_http.py --port 0 --data /tmp/chdb-state   # first stdout line: listening 127.0.0.1:PORT

What it handles (every request runs alone, under one lock, in one chdb session):
  * POST (or GET) with the SQL in the `query` URL parameter and/or the body (concatenated),
    or a multipart/form-data body holding `query` and `param_<name>` fields (the crate's form
    when query parameters are bound); `param_<name>` URL parameters work too.
  * `database` (a `USE` before each statement), `default_format` (output format when the
    statement has no FORMAT clause; TabSeparated otherwise, as in ClickHouse).
  * Any other URL parameter is a ClickHouse setting: `SET` for this request, then reset.
    An unknown setting fails as ClickHouse fails (Code: 115). Parameters that belong to the
    HTTP layer (query_id, session_id, role, user, compress, ...) are ignored.
  * INSERT with data: `query=INSERT INTO t(cols) FORMAT RowBinary[WithNamesAndTypes]` plus
    the rows in the body (plain or chunked), fed to chdb's streaming inserter, so defaults,
    type checks of the RowBinaryWithNamesAndTypes header and materialized views all run.
    `decompress=1` bodies (ClickHouse's compressed-block framing, LZ4 method 0x82 or
    none 0x02) are decoded here; the CityHash128 block checksums are not verified.
  * Errors answer like ClickHouse: status 4xx/5xx, `X-ClickHouse-Exception-Code`, and the
    engine's own `Code: N. DB::Exception: ...` text as the body.
Responses are never compressed (the crate's `Accept-Encoding: lz4` is ignored, which HTTP
allows; the crate reads a response without Content-Encoding as plain). No auth is checked.
Limits: one session for everything (a `SET`/`USE` sent as a statement persists; temporary
tables are shared), requests are serialized, results are buffered before they are sent.
"""
import argparse
import json
import re
import signal
import struct
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from chdb import session as chdb_session

# URL parameters that belong to the HTTP interface, not to the engine's settings.
# `readonly` is here too: once SET it could not be reset and would lock the shared session.
HTTP_ONLY = {"query", "database", "default_format", "query_id", "session_id", "session_timeout",
             "session_check", "compress", "decompress", "role", "user", "password", "quota_key",
             "buffer_size", "wait_end_of_query", "stacktrace", "client_protocol_version",
             "readonly"}
INSERT_RE = re.compile(r"^\s*(INSERT\s+INTO\s+.+?)\s+FORMAT\s+(\w+)\s*;?\s*$", re.I | re.S)
IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
CODE_RE = re.compile(r"Code: (\d+)\.")
# ClickHouse's exception-code -> HTTP status mapping (HTTPHandler), the part that matters here.
STATUS_BY_CODE = {400: {6, 25, 26, 27, 32, 33, 38, 41, 53, 62, 72, 117, 168, 169},  # parse/syntax/data
                  404: {46, 47, 50, 56, 60, 63, 73, 81, 115},   # unknown table/db/function/setting
                  501: {48}}                                    # NOT_IMPLEMENTED


class EngineError(Exception):
    """An error to send back the ClickHouse way: a code and a `Code: N. DB::Exception` text."""

    def __init__(self, text, code=None):
        text = str(text)
        start = text.find("Code: ")          # drop wrappers such as "Streaming insert ... failed: "
        text = text[start:] if start >= 0 else f"Code: 1001. DB::Exception: {text}"
        match = CODE_RE.match(text)
        super().__init__(text.strip())
        self.code = code or (int(match.group(1)) if match else 1001)


def quote_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lz4_block_decompress(src, size):
    """Decode one raw LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md)."""
    out, i, n = bytearray(), 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        literals = token >> 4
        if literals == 15:                   # length continues in 255-valued bytes
            while True:
                literals += src[i]
                i += 1
                if src[i - 1] != 255:
                    break
        out += src[i:i + literals]
        i += literals
        if i >= n:                           # the last sequence carries literals only
            break
        offset = src[i] | (src[i + 1] << 8)
        i += 2
        length = token & 15
        if length == 15:
            while True:
                length += src[i]
                i += 1
                if src[i - 1] != 255:
                    break
        length += 4
        start = len(out) - offset
        if offset == 0 or start < 0:
            raise EngineError("Code: 271. DB::Exception: Cannot decompress LZ4: bad match offset")
        chunk = out[start:start + min(offset, length)]   # overlapping matches repeat the window
        out += (chunk * (length // len(chunk) + 1))[:length]
    if len(out) != size:
        raise EngineError("Code: 271. DB::Exception: Cannot decompress LZ4: wrong decompressed size")
    return bytes(out)


def decompress_blocks(body):
    """Undo `decompress=1` framing: blocks of [16-byte checksum][method u8][size u32][raw u32][data]."""
    out, pos = bytearray(), 0
    while pos < len(body):
        if len(body) - pos < 25:
            raise EngineError("Code: 271. DB::Exception: Truncated compressed block", 271)
        method, size, raw = struct.unpack_from("<BII", body, pos + 16)   # size counts the 9 header bytes
        data = body[pos + 25:pos + 16 + size]
        if method == 0x82:
            out += lz4_block_decompress(data, raw)
        elif method == 0x02:
            out += data
        else:
            raise EngineError(f"Code: 271. DB::Exception: Unsupported compression method 0x{method:02x}", 271)
        pos += 16 + size
    return bytes(out)


class Engine:
    """The one chdb session, used by one request at a time."""

    def __init__(self, path):
        self.sess = chdb_session.Session(path)
        self.lock = threading.Lock()
        self.version = self.sess.query("SELECT version()", "TabSeparated").bytes().decode().strip()

    def _q(self, sql, fmt="TabSeparated", params=None):
        try:
            return self.sess.query(sql, fmt, params=params or {})
        except Exception as e:  # chdb raises ChdbError/RuntimeError with ClickHouse's text
            raise EngineError(e) from None

    def run(self, database, settings, sql, fmt, params, insert_data):
        """Returns (body bytes, summary dict). `insert_data` is None unless `sql` is INSERT ... FORMAT."""
        with self.lock:
            self._q("USE `" + database.replace("\\", "\\\\").replace("`", "\\`") + "`")
            applied = []
            try:
                for name, value in settings:
                    if not IDENT_RE.match(name):
                        raise EngineError(f"Code: 115. DB::Exception: Unknown setting '{name}'. (UNKNOWN_SETTING)")
                    self._q(f"SET {name} = {quote_string(value)}")
                    applied.append(name)
                if insert_data is not None:
                    return b"", self._insert(sql, insert_data)
                if ";" in sql:  # chdb runs "a; b" like clickhouse-local; the HTTP interface refuses it
                    try:
                        self._q("SELECT formatQuery(" + quote_string(sql) + ")")
                    except EngineError as e:
                        if "Multi-statements are not allowed" in str(e):
                            raise EngineError(str(e).split(" : In scope")[0] + " (SYNTAX_ERROR)") from None
                res = self._q(sql, fmt, params)
                return res.bytes(), {"read_rows": res.rows_read(), "read_bytes": res.bytes_read(),
                                     "written_rows": res.rows_written(), "written_bytes": res.bytes_written()}
            finally:
                for name in applied:          # settings are per request over HTTP
                    try:
                        self._q(f"SET {name} = DEFAULT")
                    except EngineError:
                        pass

    def _insert(self, sql, data):
        statement, fmt = INSERT_RE.match(sql).groups()
        try:
            inserter = self.sess.send_insert(statement, fmt)
        except Exception as e:
            raise EngineError(e) from None
        try:
            if data:
                inserter.append(data)
            res = inserter.finish()
        except Exception as e:
            try:
                inserter.cancel()             # the session takes no other statement while one is open
            except Exception:
                pass
            raise EngineError(e) from None
        return {"written_rows": res.rows_written, "written_bytes": res.bytes_written}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"            # keep-alive, as the crate's connection pool expects
    server_version = "chdb-http-shim"
    engine = None                            # set in main()

    def log_message(self, *args):            # quiet; failed statements are printed in _handle()
        pass

    def do_GET(self):
        if urlsplit(self.path).path.rstrip("/") == "/ping":
            return self._send(200, b"Ok.\n", {})
        self._handle(b"")

    def do_POST(self):
        try:
            body = self._read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            return self._send(400, f"Code: 1001. DB::Exception: Bad request body: {e}\n".encode(),
                              {"X-ClickHouse-Exception-Code": "1001"})
        self._handle(body)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():  # inserts stream chunked
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline().strip():   # trailers, then the empty line
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()                      # CRLF after each chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self, body):
        params = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
        args = dict(params)
        qparams = {k[6:]: v for k, v in params if k.startswith("param_")}
        settings = [(k, v) for k, v in params if k not in HTTP_ONLY and not k.startswith("param_")]
        query = args.get("query", "")
        try:
            encoding = self.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise EngineError(f"Code: 1001. DB::Exception: Content-Encoding {encoding} is not supported by this shim")
            if args.get("decompress") == "1":
                body = decompress_blocks(body)
            ctype = self.headers.get("Content-Type", "")
            if ctype.lower().startswith("multipart/form-data"):
                fields = parse_multipart(body, ctype)
                qparams.update({k[6:]: v for k, v in fields if k.startswith("param_")})
                body = "".join(v for k, v in fields if k == "query").encode()
            insert = INSERT_RE.match(query) if query else None
            if insert:                        # query names the INSERT, the body carries the rows
                sql, data = query, body
            else:
                text = body.decode("utf-8")
                sql, data = (query + "\n" + text if query and text else query or text), None
            if not sql.strip():
                raise EngineError("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)", 62)
            fmt = args.get("default_format") or "TabSeparated"
            out, summary = self.engine.run(args.get("database") or "default", settings, sql, fmt,
                                           qparams, data)
        except Exception as e:  # anything else (bad UTF-8, truncated block) is reported the same way
            e = e if isinstance(e, EngineError) else EngineError(f"{type(e).__name__}: {e}")
            print(f"chdb_http: {e}", file=sys.stderr, flush=True)
            status = next((s for s, codes in STATUS_BY_CODE.items() if e.code in codes), 500)
            return self._send(status, (str(e) + "\n").encode(), {"X-ClickHouse-Exception-Code": str(e.code)})
        binary = "Binary" in fmt or fmt == "Native"
        self._send(200, out, {"X-ClickHouse-Format": fmt,
                              "X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in summary.items()}),
                              "Content-Type": "application/octet-stream" if binary else "text/plain; charset=UTF-8"})

    def _send(self, status, body, headers):
        self.send_response(status)
        headers.setdefault("Content-Type", "text/plain; charset=UTF-8")
        headers["X-ClickHouse-Query-Id"] = dict(parse_qsl(urlsplit(self.path).query)).get("query_id") or str(uuid.uuid4())
        headers["X-ClickHouse-Server-Display-Name"] = "chdb-http-shim"
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def parse_multipart(body, ctype):
    """[(name, text)] of a multipart/form-data body, byte-exact (no transfer encodings)."""
    match = re.search(r'boundary="?([^";]+)"?', ctype)
    if not match:
        raise EngineError("Code: 1001. DB::Exception: multipart body without a boundary")
    fields = []
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):           # the closing delimiter
            break
        head, _, value = part[2:].partition(b"\r\n\r\n")   # part[2:] skips the delimiter's CRLF
        name = re.search(rb'name="([^"]*)"', head)
        if name:
            fields.append((name.group(1).decode(), value[:-2].decode("utf-8")))  # drop the CRLF
    return fields


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--data", required=True, help="chdb session directory (databases persist here)")
    opts = ap.parse_args()
    Handler.engine = Engine(opts.data)
    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening 127.0.0.1:{server.server_address[1]}", flush=True)
    print(f"chdb_http: ClickHouse {Handler.engine.version} (chdb) on {opts.data}", file=sys.stderr, flush=True)
    server.serve_forever()
    server.server_close()
    with Handler.engine.lock:                # let a running statement finish, then flush and close
        Handler.engine.sess.close()


if __name__ == "__main__":
    main()
