"""Install the wheels of some directories into the image's Python, by name.

Usage: python install_wheels.py pip|UV [--cache CACHE] [--no-deps] DIRECTORY [MORE...]

Installs every wheel in DIRECTORY; MORE-DIRECTORIES only supply what those need. Each wheel is
asked for as `name==version` from the directories, not as a file path: installed from a path,
a distribution records that path (PEP 610), and `pip freeze` in the image would then name files
that are not there.

With uv, the files of the distributions this run installed are then compiled to bytecode, as pip
does. uv's own --compile-bytecode compiles all of site-packages, the base image's packages too,
and would put their bytecode into this layer.

`--cache` makes a rebuild that adds one package cost that package alone (uv only; a cache mount
of the install steps). CACHE/uv is uv's cache of the wheels it unpacked. uv takes a wheel of a
`--find-links` directory for an index's, which never changes under its name, and would install
what it unpacked earlier from another file of that name (an app's wheel after an edit, a
package built again): so each wheel is asked for with its SHA-256, which uv checks its cache
against, and with `--no-deps` only, where nothing is installed that was not asked for.
CACHE/bytecode keeps each .pyc under the hash of what it is made of — the interpreter's
bytecode version, the source's path (the .pyc names it) and its bytes — so a file compiled once
is not compiled again.

uv leaves `uv_cache.json` in each distribution's .dist-info: the time of the install, for its
own cache of local projects, which an image never installs into again. It goes, and its line
in RECORD with it: otherwise every build writes other bytes into both.

Bytecode is checked-hash (PEP 552) with either installer: a .pyc holds its source's hash, not
its mtime, so a layer built twice holds the same bytes (see INVALIDATION).
"""

import compileall
import concurrent.futures
import csv
import hashlib
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
import sysconfig
import tempfile

# A timestamp .pyc holds its source's mtime, which is the time of the install: every build
# would write other bytes, and where BuildKit rewrites layer timestamps (SOURCE_DATE_EPOCH) the
# mtime in the .pyc no longer matches the file's, so Python takes the bytecode for stale and
# compiles again at every start (it cannot write the result as a non-root user). Hash-based
# bytecode has neither problem. CHECKED rather than UNCHECKED_HASH: Python still compares the
# source's hash on import, so a derived image that patches a source file does not run the old
# bytecode; hashing a source costs far less than compiling it. And it is what pip writes when
# SOURCE_DATE_EPOCH is set, so both installers write the same bytes.
INVALIDATION = py_compile.PycInvalidationMode.CHECKED_HASH


# Fewer files than this compile faster here than it takes to start worker processes (an app's
# wheel, a package or two added).
IN_PROCESS = 64


def compile_file(path):
    return compileall.compile_file(path, force=True, quiet=2, invalidation_mode=INVALIDATION)


class BytecodeCache:
    """Compiled files by what they are made of (see the module's text)."""

    def __init__(self, directory):
        self.directory = directory
        self.made = set()  # __pycache__ directories known to exist

    def _entry(self, source):
        with open(source, "rb") as f:
            key = hashlib.sha256(
                importlib.util.MAGIC_NUMBER + os.fsencode(source) + b"\0" + f.read()
            ).hexdigest()
        return os.path.join(self.directory, key[:2], key)

    def take(self, source):
        """Puts the cached bytecode of SOURCE where Python looks for it; False if none."""
        # Thousands of small files for a large package: plain reads and writes, one makedirs
        # per directory (shutil.copyfile stats both files first).
        try:
            with open(self._entry(source), "rb") as f:
                bytecode = f.read()
            pyc = importlib.util.cache_from_source(source)
            directory = os.path.dirname(pyc)
            if directory not in self.made:
                os.makedirs(directory, exist_ok=True)
                self.made.add(directory)
            with open(pyc, "wb") as f:
                f.write(bytecode)
            return True
        except OSError:
            return False

    def keep(self, source):
        """Keeps the bytecode compiled for SOURCE, for the next build."""
        pyc = importlib.util.cache_from_source(source)
        entry = self._entry(source)
        if not os.path.exists(pyc) or os.path.exists(entry):
            return
        os.makedirs(os.path.dirname(entry), exist_ok=True)
        part = f"{entry}.{os.getpid()}.part"
        shutil.copyfile(pyc, part)
        os.replace(part, entry)  # builds sharing the cache never see half a file


def compile_all(files, cache):
    """Compiles FILES, taking what CACHE (a BytecodeCache, or None) has; returns how many
    compiled files there are and how many came from the cache."""
    taken = [f for f in files if cache.take(f)] if cache else []
    rest = sorted(set(files) - set(taken))
    if len(rest) < IN_PROCESS:
        compiled = sum(map(compile_file, rest))
    else:
        with concurrent.futures.ProcessPoolExecutor() as pool:
            compiled = sum(pool.map(compile_file, rest, chunksize=32))
    if cache:
        for source in rest:
            try:
                cache.keep(source)
            except OSError as e:  # a full or read-only cache slows the next build, no more
                print(f"pyslim: bytecode cache: {e}", file=sys.stderr)
                break
    return compiled + len(taken), len(taken)


def distributions(roots):
    return {
        os.path.join(root, name)
        for root in roots
        if os.path.isdir(root)
        for name in os.listdir(root)
        if name.endswith(".dist-info")
    }


def forget_install_time(info):
    """Removes uv's `uv_cache.json` from the .dist-info INFO, and from its RECORD."""
    cache = os.path.join(info, "uv_cache.json")
    if not os.path.exists(cache):
        return
    os.remove(cache)
    record = os.path.join(info, "RECORD")
    listed = f"{os.path.basename(info)}/uv_cache.json,"
    with open(record, newline="") as lines:
        kept = [line for line in lines if not line.startswith(listed)]
    with open(record, "w", newline="") as out:
        out.writelines(kept)


def requirements(directory):
    """Each wheel of DIRECTORY as `name==version`, with its file's path."""
    names = sorted(n for n in os.listdir(directory) if n.endswith(".whl"))
    # A wheel's name is `distribution-version(-build)?-python-abi-platform.whl`.
    return [("==".join(n.split("-")[:2]), os.path.join(directory, n)) for n in names]


def hashed(directory):
    """Each wheel of DIRECTORY as `name==version`, with its file's SHA-256."""
    for want, path in requirements(directory):
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        yield want, digest.hexdigest()


def main():
    installer, args = sys.argv[1], sys.argv[2:]
    cache = uv_cache = None
    if args[:1] == ["--cache"]:
        cache = BytecodeCache(os.path.join(args[1], "bytecode"))
        uv_cache, args = os.path.join(args[1], "uv"), args[2:]
    if installer != "pip" and not os.path.exists(installer):
        # The default installer could not be fetched (the compile stage said why): pip it is.
        installer = "pip"
    no_deps = args[:1] == ["--no-deps"]
    directory, *more = args[1:] if no_deps else args
    wanted = [want for want, _ in requirements(directory)]
    if not wanted:
        # A requirements file with nothing in it yet is not an error.
        print(f"pyslim: no wheels in {directory}, nothing to install", file=sys.stderr)
        sys.exit(0)
    options = ["--no-index"]
    for path in [directory, *more]:
        options += ["--find-links", path]
    if no_deps:
        options.append("--no-deps")
    if installer == "pip":
        # As variables, which a pip too old for these options ignores.
        os.environ.update(PIP_ROOT_USER_ACTION="ignore", PIP_DISABLE_PIP_VERSION_CHECK="1")
        # pip compiles with py_compile's default mode, CHECKED_HASH when this is set to anything.
        if not os.environ.get("SOURCE_DATE_EPOCH"):
            os.environ["SOURCE_DATE_EPOCH"] = "0"
        pip = [sys.executable, "-m", "pip", "install", "--no-cache-dir"]
        sys.exit(subprocess.call([*pip, *options, *wanted]))

    roots = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    before = distributions(roots)
    uv = [installer, "pip", "install", "--system", "--no-config", "--link-mode=copy"]
    if uv_cache and no_deps:
        pinned = os.path.join(tempfile.mkdtemp(), "wheels.txt")
        with open(pinned, "w", encoding="utf-8") as f:
            f.writelines(f"{want} --hash=sha256:{digest}\n" for want, digest in hashed(directory))
        status = subprocess.call([*uv, "--cache-dir", uv_cache, *options, "-r", pinned])
    else:
        status = subprocess.call([*uv, "--no-cache", *options, *wanted])
    if status:
        sys.exit(status)

    files = []
    for info in sorted(distributions(roots) - before):
        forget_install_time(info)
        site = os.path.dirname(info)
        with open(os.path.join(info, "RECORD"), newline="") as record:
            for row in csv.reader(record):
                path = os.path.normpath(os.path.join(site, row[0])) if row else ""
                if path.endswith(".py") and path.startswith(site + os.sep):
                    files.append(path)
    compiled, cached = compile_all(files, cache)
    print(
        f"pyslim: bytecode for {compiled} of {len(files)} Python files, {cached} from the cache",
        file=sys.stderr,
    )


# Guarded: where worker processes are spawned, not forked (forkserver is Linux's default from
# Python 3.14), each one imports this file.
if __name__ == "__main__":
    main()
