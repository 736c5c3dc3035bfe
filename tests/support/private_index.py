"""A private PEP 503 package index on loopback that requires HTTP basic auth.

Serves one wheel, built here at start-up: pyslim-private 1.0. Prints the port it listens on,
then serves until killed. Every request is logged to the file given as argv[3] as
`METHOD PATH STATUS AUTHENTICATED`, so a test can tell that the credentials were used.

usage: private_index.py USER PASSWORD LOGFILE
"""

import base64
import hashlib
import http.server
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_wheel import wheel  # noqa: E402

USER, PASSWORD, LOG = sys.argv[1], sys.argv[2], sys.argv[3]


NAME, WHEEL = wheel("pyslim-private", "1.0", "private index OK")
SHA256 = hashlib.sha256(WHEEL).hexdigest()
EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        authenticated = self.headers.get("Authorization") == EXPECTED
        if not authenticated:
            status, body, kind = 401, b"authentication required\n", "text/plain"
        elif self.path.rstrip("/") in ("/simple/pyslim-private", "/simple/pyslim_private"):
            link = f'<a href="/files/{NAME}#sha256={SHA256}">{NAME}</a>'
            status, body, kind = 200, f"<html><body>{link}</body></html>".encode(), "text/html"
        elif self.path == f"/files/{NAME}":
            status, body, kind = 200, WHEEL, "application/octet-stream"
        else:
            status, body, kind = 404, b"not found\n", "text/plain"
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="pyslim"')
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(LOG, "a") as log:
            log.write(f"GET {self.path} {status} {authenticated}\n")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
