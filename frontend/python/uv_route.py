"""The uv route of `fetch_wheels.py`: uv resolves the requirements when it can take them as pip
would (see `uv_resolution`): it asks the index for every package at once, where pip asks one at
a time, and the wheels it chose are then downloaded side by side into the wheel cache, checked
against the index's SHA-256. What has no wheel for this interpreter is built from the sdist uv
chose by `uv build`, one build per core at once (pip builds one after the other, each in a build
environment that takes it a second or two to set up). A wheel built here is kept in CACHE/built
under the sdist's SHA-256 and what else went into it (`build_environment`), so the compiler runs
again only when one of those changed. A build that fails for want of neither a system package
nor the index is left to pip. Where uv cannot be given the requirements, or fails on them, pip
does it all.
"""

import concurrent.futures
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.parse

from common import requirement_lines
from index import best_wheel, download, download_into, outcome
from pip_run import (
    INDEX_UNREACHABLE,
    NEEDS_SYSTEM,
    classify,
    pip,
    pip_configured,
    without_requirements,
)

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
            pool.map(
                lambda p: outcome(build_sdist, uv, p, cache, out, index, environment), packages
            )
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
