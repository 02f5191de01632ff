#!/usr/bin/python3
"""A tiny fake Kubernetes API (and kubelet) over TLS, for images.test's
checks of the image stand-ins: it answers a request METHOD /PATH with the
file ROOT/METHOD/PATH (JSON or text; ROOT/METHOD/PATH/.list when PATH
is a folder, for a collection whose members are files too) and 404
otherwise, refuses any
request without "Authorization: Bearer TOKEN" (401), and appends every
request to ROOT/requests.log as one JSON line (method, path, body).

    fakeapi.py ROOT ADDRESS PORT CERT KEY TOKEN

Writes ROOT/ready once it listens. Standard library only."""
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

root, address, port, cert, key, token = sys.argv[1:7]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        path = self.path.split("?")[0]
        with lock, open(os.path.join(root, "requests.log"), "a") as f:
            f.write(json.dumps({"method": self.command, "path": path,
                                "type": self.headers.get("Content-Type"), "body": body}) + "\n")
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.answer(401, {"kind": "Status", "code": 401, "reason": "Unauthorized"})
        fn = os.path.normpath(os.path.join(root, self.command, path.lstrip("/")))
        if os.path.isdir(fn):  # a collection that also has members: its list
            fn = os.path.join(fn, ".list")
        if not fn.startswith(root + "/") or not os.path.isfile(fn):
            return self.answer(404, {"kind": "Status", "code": 404, "reason": "NotFound",
                                     "message": "%s not found" % path})
        with open(fn, "rb") as f:
            data = f.read()
        self.answer(200, data, "application/json" if data[:1] in (b"{", b"[") else "text/plain")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = any

    def log_message(self, *args):
        pass


root = os.path.abspath(root)
srv = ThreadingHTTPServer((address, int(port)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(os.path.join(root, "ready"), "w").close()
srv.serve_forever()
