"""The package index, read and downloaded from directly: a project's files on its simple page
(PEP 691 JSON, or PEP 503 HTML), the wheel this interpreter prefers among some, and downloads
side by side into the wheel cache, each checked against its SHA-256 and tried again as pip
tries a request again."""

import concurrent.futures
import functools
import hashlib
import html.parser
import http.client
import json
import os
import shutil
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import normalize
from pip_run import INDEX_UNREACHABLE

# Downloads at once: enough to hide each file's round trips, few enough for any index.
DOWNLOADS = 8
# Tries of each download, as pip makes: a busy resolver or proxy drops a burst of lookups or
# connections now and then ("Temporary failure in name resolution"), and a retry goes through.
ATTEMPTS = 5
# The index a run of pip without `--index-url` reads.
PYPI = "https://pypi.org/simple/"
# PEP 691's JSON first, PEP 503's HTML from an index that has no JSON.
SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


def remember_lookups():
    """Makes this process ask the resolver once per host and port: each download otherwise
    looks its host up again, and a busy resolver drops a burst of lookups now and then
    ("Temporary failure in name resolution", seen in CI for over a minute). An answer is kept
    for the run; a failure is not, so the next try asks again."""
    lookup = socket.getaddrinfo

    @functools.lru_cache(maxsize=64)
    def once(host, port, family=0, type=0, proto=0, flags=0):
        return lookup(host, port, family, type, proto, flags)

    socket.getaddrinfo = once


def best_wheel(wheels):
    """The wheel of WHEELS (pylock.toml entries) this interpreter prefers, or None."""
    try:
        from pip._vendor.packaging.tags import sys_tags
        from pip._vendor.packaging.utils import parse_wheel_filename
    except ImportError:
        return wheels[0] if wheels else None
    rank = {tag: i for i, tag in enumerate(sys_tags())}
    best = None
    for wheel in wheels:
        name = wheel.get("name") or wheel.get("url", "").rsplit("/", 1)[-1]
        try:
            tags = parse_wheel_filename(name)[3]
        except ValueError:
            continue
        score = min((rank[t] for t in tags if t in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    return best and best[1]


def download(file, cache):
    """Puts FILE (a pylock.toml wheel or sdist) into CACHE under its file name, unless it is
    there; returns the name and whether it was downloaded."""
    url = file["url"]
    name = file.get("name") or urllib.parse.unquote(url.rsplit("/", 1)[-1].split("#")[0])
    target = os.path.join(cache, name)
    if os.path.exists(target):
        return name, False
    print(f"pyslim: downloading {name}", file=sys.stderr)
    expected = file.get("hashes", {}).get("sha256")
    part = f"{target}.{threading.get_ident()}.part"
    try:
        digest = retried(fetch, url, part)
        if expected and digest != expected:
            raise ValueError(f"its SHA-256 is {digest}, the index said {expected}")
        os.replace(part, target)
    finally:
        if os.path.exists(part):
            os.remove(part)
    return name, True


def retried(function, *args):
    """FUNCTION(*ARGS), tried again after a network error, as pip tries a request again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return function(*args)
        except (OSError, http.client.HTTPException) as e:
            # What a retry cannot change: the index said no (other than "too many").
            refused = isinstance(e, urllib.error.HTTPError) and e.code < 500 and e.code != 429
            if refused or attempt == ATTEMPTS:
                raise
            time.sleep(0.5 * 2**attempt)


def fetch(url, path):
    """Writes what URL serves to PATH; returns its SHA-256."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response, open(path, "wb") as f:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


class Links(html.parser.HTMLParser):
    """The files of a PEP 503 project page: name, URL and SHA-256 (None when not given)."""

    def __init__(self, page):
        super().__init__()
        self.page = page
        self.files = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            url, _, fragment = urllib.parse.urljoin(self.page, href).partition("#")
            algorithm, _, digest = fragment.partition("=")
            name = urllib.parse.unquote(url.rsplit("/", 1)[-1])
            self.files.append((name, url, digest if algorithm == "sha256" else None))


def read_page(url):
    """The content type, text and final URL of a simple index's page."""
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_ACCEPT})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read().decode("utf-8", errors="replace")
        return response.headers.get_content_type(), body, response.url


def project_files(index, name):
    """The files of project NAME on the simple INDEX, as pylock.toml entries (name, url,
    hashes)."""
    page = urllib.parse.urljoin(index.rstrip("/") + "/", f"{normalize(name)}/")
    kind, body, page = retried(read_page, page)
    if kind == "application/vnd.pypi.simple.v1+json":
        files = json.loads(body).get("files", [])
        entries = [
            (f["filename"], urllib.parse.urljoin(page, f["url"]), f.get("hashes", {}).get("sha256"))
            for f in files
        ]
    else:
        links = Links(page)
        links.feed(body)
        entries = links.files
    return [{"name": n, "url": u, "hashes": {"sha256": h}} for n, u, h in entries if h]


def download_into(wheels, cache, out, fetch=download):
    """FETCHes WHEELS (pylock.toml entries) into CACHE side by side, and copies them into OUT.
    Returns an exit status and how many were downloaded (the rest were in CACHE)."""
    os.makedirs(cache, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(DOWNLOADS) as pool:
        results = list(pool.map(lambda w: outcome(fetch, w, cache), wheels))
    for wheel, result in zip(wheels, results):
        if isinstance(result, Exception):
            print(f"pyslim: could not download {wheel['url']}: {result}", file=sys.stderr)
            # A file that is not what the index said is no network's fault.
            return (1 if isinstance(result, ValueError) else INDEX_UNREACHABLE), 0
    os.makedirs(out, exist_ok=True)
    for name, _ in results:
        shutil.copy2(os.path.join(cache, name), os.path.join(out, name))
    return 0, sum(fetched for _, fetched in results)


def download_checked(wheel, cache):
    """`download`, where a file the cache holds under the wheel's name must also have its
    SHA-256: a lock's hash is the only word on which file is right."""
    target = os.path.join(cache, wheel["name"])
    if os.path.exists(target):
        digest = hashlib.sha256()
        with open(target, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != wheel["hashes"]["sha256"]:
            os.remove(target)
    return download(wheel, cache)


def outcome(function, *args):
    """FUNCTION(*ARGS), or the exception it raised: for a pool's results, each reported with
    what it was for."""
    try:
        return function(*args)
    except Exception as e:  # reported with the file it was for
        return e
