"""A small HTTP file server with byte-range support, started by tests (Python's own server).

Serves the files of one folder with HEAD, GET, single and multiple byte ranges (206 and
multipart/byteranges), as COG readers expect. For failure tests it can:
    token       require `?token=TOKEN` on every request (403 without it)
    die_after   answer only that many GET requests, then close every connection unanswered
    delay       sleep that many seconds before answering (timeouts)
It counts the requests and the bytes of the bodies it sent.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


class RangeServer:
    """`with RangeServer(folder) as server:` serves `folder` at `server.url`."""

    def __init__(self, folder: str | Path, token: str | None = None, die_after: int | None = None, delay: float = 0.0):
        self.folder = Path(folder)
        self.token, self.die_after, self.delay = token, die_after, delay
        self.requests = 0
        self.gets = 0
        self.bytes_sent = 0
        self.ranges_seen = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RangeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()


def _parse_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    match = re.fullmatch(r"bytes=(.+)", header.strip())
    if not match:
        return None
    out = []
    for part in match[1].split(","):
        start, _, end = part.strip().partition("-")
        if start == "":
            first, last = max(0, size - int(end)), size - 1
        else:
            first, last = int(start), min(int(end) if end else size - 1, size - 1)
        if first > last or first >= size:
            return []
        out.append((first, last))
    return out


def _handler(server: RangeServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _file(self) -> Path | None:
            parts = urlsplit(self.path)
            if server.token is not None and parse_qs(parts.query).get("token") != [server.token]:
                self._status(403, b"forbidden")
                return None
            path = server.folder / parts.path.lstrip("/")
            if not path.is_file():
                self._status(404, b"not found")
                return None
            return path

        def _status(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self):
            with server.lock:
                server.requests += 1
            path = self._file()
            if path is not None:
                self.send_response(200)
                self.send_header("Content-Length", str(path.stat().st_size))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()

        def do_GET(self):
            with server.lock:
                server.requests += 1
                server.gets += 1
                dead = server.die_after is not None and server.gets > server.die_after
            if dead:  # the server "stopped": the connection is dropped unanswered
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if server.delay:
                time.sleep(server.delay)
            path = self._file()
            if path is None:
                return
            data = path.read_bytes()
            header = self.headers.get("Range")
            ranges = _parse_ranges(header, len(data)) if header else None
            if ranges == []:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(data, ranges)

        def _send(self, data: bytes, ranges):
            if not ranges:
                body, code, headers = data, 200, {}
            elif len(ranges) == 1:
                first, last = ranges[0]
                body, code = data[first : last + 1], 206
                headers = {"Content-Range": f"bytes {first}-{last}/{len(data)}"}
            else:
                boundary = "RANGEBOUNDARY"
                chunks = [
                    f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
                    f"Content-Range: bytes {a}-{b}/{len(data)}\r\n\r\n".encode()
                    + data[a : b + 1]
                    + b"\r\n"
                    for a, b in ranges
                ]
                body, code = b"".join(chunks) + f"--{boundary}--\r\n".encode(), 206
                headers = {"Content-Type": f"multipart/byteranges; boundary={boundary}"}
            with server.lock:
                server.ranges_seen += len(ranges or [])
                server.bytes_sent += len(body)
            self.send_response(code)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

    return Handler


def make_cog(src: str | Path, dst: str | Path, blocksize: int = 256, **options) -> Path:
    """A COG of `src` at `dst` (GDAL's COG driver), tiles of `blocksize` px."""
    from osgeo import gdal

    creation = [f"BLOCKSIZE={blocksize}", "COMPRESS=DEFLATE"] + [f"{k}={v}" for k, v in options.items()]
    gdal.Translate(os.fspath(dst), os.fspath(src), format="COG", creationOptions=creation)
    return Path(dst)
