"""The lock route of `fetch_wheels.py`: a lock's pins (`--no-deps` and requirements that are all
`name==version --hash=sha256:...`) need no resolution at all. Each package's page on the index
is read, side by side, for the files with one of its hashes, and the wheel this interpreter
prefers among them is downloaded, side by side too; only what has no such wheel, or anything
the index does not show as the lock says, is left to pip, in its hash-checking mode.
"""

import concurrent.futures
import os
import sys
import tempfile
import urllib.parse

from common import requirement_lines
from index import (
    DOWNLOADS,
    PYPI,
    best_wheel,
    download_checked,
    download_into,
    outcome,
    project_files,
)
from pip_run import pip, pip_configured, without_requirements


def pinned_requirements(args):
    """A lock's pins among pip's arguments ARGS: the index URLs and, per requirement line, the
    name, version, allowed SHA-256 digests and the line itself; None unless ARGS are `--no-deps`,
    index URLs without credentials and requirements files of nothing but hashed pins, and pip
    has no settings of its own."""
    if "--no-deps" not in args or pip_configured():
        return None
    indexes, extra, pins = [], [], []
    seen = set()
    pairs = iter(a for a in args if a != "--no-deps")
    for option in pairs:
        value = next(pairs, None)
        if value is None:
            return None
        if option in ("--index-url", "--extra-index-url"):
            if urllib.parse.urlsplit(value).username:
                return None
            (indexes if option == "--index-url" else extra).append(value)
        elif option == "--requirement":
            try:
                lines = list(requirement_lines(value, seen))
            except OSError:
                return None  # pip names the file it cannot read
            for words in lines:
                name, equals, version = words[0].partition("==")
                hashes = {w.removeprefix("--hash=sha256:") for w in words[1:]}
                plain = all(w.startswith("--hash=sha256:") for w in words[1:])
                if not (equals and plain and hashes) or any(c in name for c in "[@;<>!~="):
                    return None
                pins.append((name, version, hashes, " ".join(words)))
        else:
            return None
    return (indexes or [PYPI]) + extra, pins


def fetch_pinned(cache, out, args):
    """A lock's pins without resolution (see the module's text): returns an exit status, or
    None when pip must do it all."""
    pinned = pinned_requirements(args)
    if not pinned:
        return None
    indexes, pins = pinned
    queries = [(index, name) for name, *_ in pins for index in indexes]
    with concurrent.futures.ThreadPoolExecutor(DOWNLOADS) as pool:
        pages = list(pool.map(lambda q: outcome(project_files, *q), queries))
    found = {}
    for (index, name), page in zip(queries, pages):
        if isinstance(page, Exception):
            print(f"pyslim: could not read {name}'s page on {index}: {page}", file=sys.stderr)
            return None
        found.setdefault(name, []).extend(page)
    chosen, sources = [], []
    for name, version, hashes, line in pins:
        files = [f for f in found[name] if f["hashes"]["sha256"] in hashes]
        wheel = best_wheel([f for f in files if f["name"].endswith(".whl")])
        if wheel:
            chosen.append(wheel)
        elif files:
            sources.append(line)
        else:
            print(
                f"pyslim: no file of {name} {version} on the index has the lock's hash",
                file=sys.stderr,
            )
            return None  # pip says what it finds instead
    status, downloaded = download_into(chosen, cache, out, download_checked)
    if status:
        return status
    if sources:
        # Built by pip, which checks the sdist against the lock's hashes as it downloads it.
        with tempfile.TemporaryDirectory() as directory:
            listing = os.path.join(directory, "sources.txt")
            with open(listing, "w", encoding="utf-8") as f:
                f.writelines(f"{line}\n" for line in sources)
            options = without_requirements(args)
            status = pip(["wheel", "--wheel-dir", out, *options, "--requirement", listing])
        if status:
            return status
    print(
        f"pyslim: {len(pins)} pinned packages, no resolution: {downloaded} wheels downloaded, "
        f"{len(chosen) - downloaded} reused from earlier builds, {len(sources)} built from source",
        file=sys.stderr,
    )
    return 0
