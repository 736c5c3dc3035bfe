"""Build the wheel of every dependency into OUT, reusing the wheels earlier builds downloaded.

Usage: python fetch_wheels.py CACHE OUT [--uv UV] PIP-WHEEL-ARGUMENTS...

With `--uv UV`, uv resolves the requirements when it can take them as pip would (see
`uv_resolution`): it asks the index for every package at once, where pip asks one at a time, and
the wheels it chose are then downloaded side by side into CACHE, checked against the index's
SHA-256. What has no wheel for this interpreter is built from the sdist uv chose by `uv build`,
one build per core at once (pip builds one after the other, each in a build environment that
takes it a second or two to set up). A wheel built here is kept in CACHE/built under the sdist's
SHA-256 and what else went into it (`build_environment`), so the compiler runs again only when
one of those changed. A build that fails for want of neither a system package nor the index is
left to pip. Where uv cannot be given the requirements, or fails on them, pip does it all, as
without `--uv`.

A lock's pins (`--no-deps` and requirements that are all `name==version --hash=sha256:...`)
need no resolution at all: each package's page on the index is read, side by side, for the
files with one of its hashes, and the wheel this interpreter prefers among them is downloaded
(see `fetch_pinned`); only what has no such wheel, or anything the index does not show as the
lock says, is left to pip, in its hash-checking mode.

`--unhashed-requirement FILE` among the arguments (a lock's git and directory sources, which pip
cannot hash) is built by a second pip run with the same options and only that file: pip checks
the hashes of every requirement of a run or of none.

pip resolves against the index as always, and skips the download of a file its wheel directory
already holds under the same name (a file on an index never changes under its name). So CACHE,
as pip's wheel directory, is a download cache that works without HTTP cache headers, which many
package proxies do not send.

OUT gets the wheels of pip's resolution and no others. Which files pip opened in CACHE does not
tell them: CACHE holds the wheels of earlier builds too, and pip reads some only to reject them
(it tries the cached foo 2.0, finds that it needs a newer bar than the one pinned, and goes back
to foo 1.0). pip hands each wheel it chose, and only those, to one method that copies it into
the wheel directory unless it is there already, `RequirementPreparer.save_linked_requirement`:
wrapped, it names each one and the file pip took it from. The wheels pip built from source it
copies there itself: those are the files it writes there, seen through Python's audit hook.

CACHE keeps only what pip downloaded, the files it took from its `pip-unpack-*` directory, even
when pip fails. A wheel built here, or taken from a local directory, can change under the same
name, so it must not stand in for a later one; a local directory's wheels also replace
same-named cached ones, which pip would otherwise take in their place.

Both are pip internals, the same from pip 20.3 to 26.3. If pip renames that directory, nothing is
cached; if it drops that method, pip builds straight into OUT without the cache. Either is
slower, and nothing goes wrong.

When pip fails, the frontend sees only the exit code, not the log: so this script reads pip's
output as it passes and exits with INDEX_UNREACHABLE when it shows an index pip could not
reach or that refused it, NEEDS_SYSTEM when it shows a build stopped by a missing compiler,
header or tool, and pip's own status otherwise. The frontend's advice follows the code.
"""

import concurrent.futures
import hashlib
import html.parser
import http.client
import json
import os
import runpy
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from common import normalize

# The exit codes the frontend reads (pyslim's plan/advice.rs has the same numbers).
INDEX_UNREACHABLE = 69
NEEDS_SYSTEM = 72

# What a build's output says when it lacks a compiler, a header or a tool: the symptoms of the
# frontend's table of known projects (known.rs), and the compiler's own words.
SYSTEM_SYMPTOMS = (
    "pg_config executable not found",
    "mysql_config not found",
    "Can not find valid pkg-config name",
    "pkg-config: not found",
    "lber.h: No such file or directory",
    "sasl/sasl.h: No such file or directory",
    "libxml/xmlversion.h: No such file or directory",
    "ffi.h: No such file or directory",
    "openssl/opensslv.h: No such file or directory",
    "The headers or library files could not be found for jpeg",
    "fatal error: ",
    "error: command 'gcc' failed",
    "error: command '/usr/bin/gcc' failed",
    "error: command 'x86_64-linux-gnu-gcc' failed",
    "error: command 'aarch64-linux-gnu-gcc' failed",
    "error: command 'g++' failed",
    "error: command 'cc' failed",
    "gcc: not found",
    "cc: not found",
)

# What pip says of an index it could not reach, or that refused it.
INDEX_SYMPTOMS = (
    "Failed to establish a new connection",
    "Connection refused",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No route to host",
    "Network is unreachable",
    "Could not fetch URL",
    "404 Client Error",
    "401 Client Error",
    "403 Client Error",
    "CERTIFICATE_VERIFY_FAILED",
)

# At most this much of pip's output is kept to be read: a failure shows at its end.
KEEP = 1 << 20


class Tee:
    """A text stream that keeps what is written to it, and passes it on."""

    def __init__(self, stream, kept):
        self._stream = stream
        self._kept = kept

    def write(self, text):
        if isinstance(text, str):
            self._kept.append(text)
            if len(self._kept) > 4096:
                self._kept[:] = ["".join(self._kept)[-KEEP:]]
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def classify(output, status):
    """The exit code for a pip run that ended with `status` and said `output`."""
    if not status:
        return 0
    if any(symptom in output for symptom in SYSTEM_SYMPTOMS):
        return NEEDS_SYSTEM
    if any(symptom in output for symptom in INDEX_SYMPTOMS):
        return INDEX_UNREACHABLE
    return status


def pip(args):
    """Runs pip in this process, where the hooks see it, and returns its exit status: pip's,
    or one that says what its output showed (see `classify`)."""
    sys.argv = ["pip", *args]
    kept = []
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Tee(stdout, kept), Tee(stderr, kept)
    try:
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as exit:
        status = exit.code
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    if status and not isinstance(status, int):
        status = 1
    return classify("".join(kept), status)


def split_unhashed(args):
    """The arguments without `--unhashed-requirement FILE` pairs, and those FILEs."""
    rest, unhashed = [], []
    pairs = iter(args)
    for arg in pairs:
        if arg == "--unhashed-requirement":
            unhashed.append(next(pairs))
        else:
            rest.append(arg)
    return rest, unhashed


def without_requirements(args):
    """The options of a pip run, without its `--requirement FILE` pairs."""
    out = []
    pairs = iter(args)
    for arg in pairs:
        if arg in ("--requirement", "-r"):
            next(pairs)
        else:
            out.append(arg)
    return out


# Requirement-file options uv's resolution would not honour as pip does: hashes (uv resolves
# without checking them), other indexes and link sources (their files may need pip's handling of
# credentials, and a wheel cache of their own), editable and local projects, and a choice
# between wheels and sdists (pip builds what uv chose to build without being told again).
PIP_ONLY_OPTIONS = (
    "--hash",
    "--no-binary",
    "--only-binary",
    "--prefer-binary",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--no-index",
    "--trusted-host",
    "-e",
    "--editable",
)

# Command-line options the uv route passes on to uv; any other sends the build to pip.
UV_OPTIONS = ("--requirement", "--index-url", "--extra-index-url")

# Downloads at once: enough to hide each file's round trips, few enough for any index.
DOWNLOADS = 8
# Tries of each download, as pip makes: a busy resolver or proxy drops a burst of lookups or
# connections now and then ("Temporary failure in name resolution"), and a retry goes through.
ATTEMPTS = 5


def requirement_lines(path, seen):
    """The logical lines of a requirements file and of those it includes (`-r`, `-c`), without
    comments."""
    path = os.path.abspath(path)
    if path in seen:
        return
    seen.add(path)
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split(" #")[0].split()
        if not words or words[0].startswith("#"):
            continue
        option, _, value = words[0].partition("=")
        if option in ("-r", "--requirement", "-c", "--constraint"):
            included = value or (words[1] if len(words) > 1 else "")
            yield from requirement_lines(os.path.join(os.path.dirname(path), included), seen)
        else:
            yield words


def takes_pip_only_options(files):
    seen = set()
    return any(
        word.split("=")[0] in PIP_ONLY_OPTIONS
        for path in files
        for words in requirement_lines(path, seen)
        for word in words
    )


def uv_arguments(args):
    """pip's arguments ARGS as uv takes them: the requirements files, and the index options
    (with pip's choice among indexes: the best version on any of them); None when uv would not
    take them as pip does, or pip has settings of its own."""
    if pip_configured():
        return None
    files, index = [], ["--index-strategy", "unsafe-best-match"]
    pairs = iter(args)
    for option in pairs:
        value = next(pairs, None)
        if option not in UV_OPTIONS or value is None:
            return None
        if option == "--requirement":
            files.append(value)  # uv takes them as arguments
        elif urllib.parse.urlsplit(value).username:
            return None
        else:
            index.extend([option, value])
    return files, index


def uv_resolution(uv, files, index):
    """What uv resolves the requirements FILES to on the INDEX options: pylock.toml's
    `packages`, or None when pip must resolve them — an option uv would take otherwise, a
    package that is not an index's file, or uv's failure (it says why)."""
    try:
        import tomllib
    except ImportError:  # Python before 3.11
        return None
    try:
        if takes_pip_only_options(files):
            return None
    except OSError:
        return None  # pip names the file it cannot read
    with tempfile.TemporaryDirectory() as directory:
        lock = os.path.join(directory, "pylock.toml")
        command = [
            uv,
            "pip",
            "compile",
            "--quiet",
            "--no-config",
            "--no-header",
            "--python",
            sys.executable,
            "--format",
            "pylock.toml",
            "--output-file",
            lock,
            *index,
            *files,
        ]
        if subprocess.run(command).returncode:
            print(
                "pyslim: uv could not resolve the requirements (above): pip tries", file=sys.stderr
            )
            return None
        with open(lock, "rb") as f:
            packages = tomllib.load(f).get("packages", [])
    if not all(p.get("wheels") or p.get("sdist") for p in packages):
        return None  # a direct URL, a git or directory source: pip builds those
    return packages


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


def build_environment():
    """What a wheel built here is made of besides its sdist: the interpreter, the platform, and
    the system's packages (the headers and libraries it was compiled against: a new base image
    or another `system:` list builds it again)."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag} {sysconfig.get_platform()}".encode())
    for database in ("/var/lib/dpkg/status", "/lib/apk/db/installed"):
        try:
            with open(database, "rb") as f:
                digest.update(f.read())
        except OSError:
            pass
    return digest.hexdigest()[:32]


def build_sdist(uv, package, cache, out, index, environment):
    """Builds PACKAGE's wheel (a pylock.toml entry) from its sdist into OUT, or copies the one
    an earlier build kept in the same ENVIRONMENT (see the module's text). Returns the exit
    status, what the build said when it failed, and whether the wheel was kept from an earlier
    build."""
    sdist = package["sdist"]
    sha256 = sdist.get("hashes", {}).get("sha256")
    kept = os.path.join(cache, "built", f"{sha256}-{environment}") if sha256 else None
    earlier = os.listdir(kept) if kept and os.path.isdir(kept) else []
    if earlier:
        shutil.copy2(os.path.join(kept, earlier[0]), out)
        return 0, "", True
    print(f"pyslim: building {package['name']} {package['version']} from source", file=sys.stderr)
    with tempfile.TemporaryDirectory() as directory:
        name, _ = download(sdist, directory)
        built = os.path.join(directory, "built")
        command = [uv, "build", "--wheel", "--no-config", "--python", sys.executable]
        command += ["--out-dir", built, *index, os.path.join(directory, name)]
        # Side by side, so each build's output is kept and shown whole.
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = result.stdout.decode(errors="replace")
        wheels = (
            [n for n in os.listdir(built) if n.endswith(".whl")] if not result.returncode else []
        )
        if len(wheels) != 1:
            return result.returncode or 1, output, False
        if kept:
            os.makedirs(os.path.dirname(kept), exist_ok=True)
            part = f"{kept}.{threading.get_ident()}.part"
            os.makedirs(part)
            shutil.copy2(os.path.join(built, wheels[0]), part)
            try:
                os.rename(part, kept)  # builds sharing the cache never see half of it
            except OSError:
                shutil.rmtree(part)  # another build kept it first
        shutil.copy2(os.path.join(built, wheels[0]), out)
    return 0, "", False


def build_sdists(uv, packages, cache, out, index, pip_args):
    """Builds PACKAGES (pylock.toml entries with no wheel for this interpreter) into OUT, one
    per core at once; what `uv build` fails on for another reason than a missing system
    package or index is left to pip. Returns the exit status and how many wheels were kept
    from earlier builds."""
    environment = build_environment()
    workers = max(1, min(len(packages), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        results = list(
            pool.map(lambda p: _try(build_sdist, uv, p, cache, out, index, environment), packages)
        )
    failed, kept = [], 0
    for package, result in zip(packages, results):
        if isinstance(result, Exception):
            print(
                f"pyslim: could not download {package['sdist']['url']}: {result}", file=sys.stderr
            )
            return (1 if isinstance(result, ValueError) else INDEX_UNREACHABLE), kept
        status, output, reused = result
        kept += reused
        if not status:
            continue
        sys.stderr.write(output)
        status = classify(output, status)
        if status in (NEEDS_SYSTEM, INDEX_UNREACHABLE):
            return status, kept
        failed.append(package)
    if failed:
        print(
            "pyslim: uv could not build "
            + ", ".join(p["name"] for p in failed)
            + " (above): pip tries",
            file=sys.stderr,
        )
        wanted = [f"{p['name']}=={p['version']}" for p in failed]
        status = pip(["wheel", "--no-deps", "--wheel-dir", out, *pip_args, *wanted])
        if status:
            return status, kept
    return 0, kept


# The index a run of pip without `--index-url` reads.
PYPI = "https://pypi.org/simple/"
# PEP 691's JSON first, PEP 503's HTML from an index that has no JSON.
SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


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


# pip's own settings that change where it looks or what it takes: with any of them, pip alone
# knows what it would download.
PIP_SETTINGS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_TRUSTED_HOST",
    "PIP_CONFIG_FILE",
    "PIP_NO_BINARY",
    "PIP_ONLY_BINARY",
    "PIP_PREFER_BINARY",
)


def pip_configured():
    """Whether pip has settings of its own here, in the environment or a configuration file."""
    if os.environ.get("PIP_CONFIG_FILE") == os.devnull:  # pip then reads no file at all
        return any(os.environ.get(name) for name in PIP_SETTINGS if name != "PIP_CONFIG_FILE")
    if any(os.environ.get(name) for name in PIP_SETTINGS):
        return True
    home = os.path.expanduser("~")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = [
        "/etc/pip.conf",
        "/etc/xdg/pip/pip.conf",
        os.path.join(home, ".pip", "pip.conf"),
        os.path.join(config, "pip", "pip.conf"),
        os.path.join(sys.prefix, "pip.conf"),
    ]
    return any(os.path.exists(f) for f in files)


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
        pages = list(pool.map(lambda q: _try(project_files, *q), queries))
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


def download_into(wheels, cache, out, fetch=download):
    """FETCHes WHEELS (pylock.toml entries) into CACHE side by side, and copies them into OUT.
    Returns an exit status and how many were downloaded (the rest were in CACHE)."""
    os.makedirs(cache, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(DOWNLOADS) as pool:
        results = list(pool.map(lambda w: _try(fetch, w, cache), wheels))
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


def fetch_with_uv(uv, cache, out, args):
    """The uv route (see the module's text): returns an exit status, or None when pip must
    do it all."""
    arguments = uv_arguments(args)
    packages = arguments and uv_resolution(uv, *arguments)
    if packages is None:
        return None
    chosen, sources = [], []
    for package in packages:
        wheel = best_wheel(package.get("wheels") or [])
        if wheel is None:
            sources.append(package)
        elif "url" not in wheel:
            return None
        else:
            chosen.append(wheel)
    if any("url" not in p["sdist"] for p in sources):
        return None
    status, downloaded = download_into(chosen, cache, out)
    if status:
        return status
    kept = 0
    if sources:
        status, kept = build_sdists(
            uv, sources, cache, out, arguments[1], without_requirements(args)
        )
        if status:
            return status
    print(
        f"pyslim: uv resolved {len(packages)} packages: {downloaded} wheels downloaded, "
        f"{len(chosen) - downloaded} reused from earlier builds, {len(sources) - kept} built "
        f"from source, {kept} built by earlier builds",
        file=sys.stderr,
    )
    return 0


def _try(function, *args):
    try:
        return function(*args)
    except Exception as e:  # reported with the file it was for
        return e


def main():
    cache, out, all_args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if all_args[:1] == ["--uv"]:
        uv, all_args = all_args[1], all_args[2:]
        status = fetch_with_uv(uv, cache, out, all_args)
        if status is not None:
            sys.exit(status)
    pip_args, unhashed = split_unhashed(all_args)
    status = fetch_pinned(cache, out, pip_args)
    if status is not None:
        # What has no hash (a git commit, a directory) is built, never a download to keep.
        for path in unhashed if not status else []:
            status = pip(["wheel", "--wheel-dir", out, *without_requirements(pip_args), "-r", path])
            if status:
                break
        sys.exit(status)
    runs = [pip_args] + [
        [*without_requirements(pip_args), "--requirement", path] for path in unhashed
    ]
    try:
        from pip._internal.operations.prepare import RequirementPreparer

        save = RequirementPreparer.save_linked_requirement
    except (ImportError, AttributeError):
        print(
            "pyslim: this pip does not say which wheels it chose: the wheel cache is not used",
            file=sys.stderr,
        )
        for args in runs:
            status = pip(["wheel", "--wheel-dir", out, *args])
            if status:
                sys.exit(status)
        sys.exit(0)

    for option, value in zip(pip_args, pip_args[1:]):
        if option in ("--find-links", "-f") and os.path.isdir(value):
            for name in os.listdir(value):
                cached = os.path.join(cache, name)
                if name.endswith(".whl") and os.path.exists(cached):
                    os.remove(cached)

    chosen = {}  # file name -> the file pip took it from
    written = set()

    def save_linked_requirement(preparer, req):
        save(preparer, req)
        if req.link.is_wheel and req.local_file_path:
            chosen[req.link.filename] = req.local_file_path

    cache_dir = os.path.realpath(cache)

    def record(event, args):
        if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.path.abspath(os.fsdecode(os.fspath(args[0])))
        if not path.endswith(".whl") or os.path.realpath(os.path.dirname(path)) != cache_dir:
            return
        mode, flags = args[1], args[2]
        if isinstance(mode, str):
            writes = any(c in mode for c in "wax+")
        else:
            writes = bool(flags & (os.O_WRONLY | os.O_RDWR))
        if writes:
            written.add(os.path.basename(path))

    RequirementPreparer.save_linked_requirement = save_linked_requirement
    sys.addaudithook(record)
    status = 0
    for args in runs:
        status = pip(["wheel", "--wheel-dir", cache, *args])
        if status:
            break

    wheels = sorted(written.union(chosen))
    if not status:
        os.makedirs(out, exist_ok=True)
        for name in wheels:
            shutil.copy2(os.path.join(cache, name), os.path.join(out, name))
    downloaded = {
        name
        for name, source in chosen.items()
        if os.path.basename(os.path.dirname(source)).startswith("pip-unpack-")
    }
    for name in written - downloaded:
        # A write that failed (pip says why) left no file.
        if os.path.exists(os.path.join(cache, name)):
            os.remove(os.path.join(cache, name))
    if status:
        sys.exit(status)
    reused = len(set(chosen) - written)
    print(f"pyslim: {len(wheels)} wheels, {reused} reused from earlier builds", file=sys.stderr)


if __name__ == "__main__":
    main()
