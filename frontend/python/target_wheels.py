"""Download the target platform's binary wheels of every dependency, on the build platform.

Usage: python target_wheels.py REPORT OUT MACHINE PYTHON PIP-WHEEL-ARGUMENTS...

MACHINE is the target's `platform.machine()` (aarch64), PYTHON its `X.Y`. The arguments are
those `fetch_wheels.py` gets (pip's index options and `--requirement FILE`s). pip downloads,
for the target, the wheels of pip's resolution into OUT, binary wheels only: nothing runs
under emulation, and nothing is built. REPORT says whether that was every dependency:

    {"complete": true}                         OUT holds them all: the target needs no pip run
    {"complete": false, "why": "..."}          something must be built, or resolved, there
    {"complete": false, "why": "...",          a package has no wheel for the target and no
     "unbuildable": [{"requirement": "pkg==1",  source distribution either: the build there
                      "name": "pkg"}]}          could only fail (NAME is PEP 503's)

The target's C library is taken to be at most this machine's: the target's compile image is
the same image built for another platform, of the same Debian release. So the manylinux tags
go up to this machine's glibc version, and no further.

Exits 0 whatever pip did (the frontend reads REPORT), unless pip could not reach the index.
"""

import json
import os
import re
import runpy
import sys
import tempfile

from common import normalize, requirement_lines

# fetch_wheels.py's code for an index pip could not reach (plan/advice.rs has the same number).
INDEX_UNREACHABLE = 69
INDEX_SYMPTOMS = (
    "Failed to establish a new connection",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "CERTIFICATE_VERIFY_FAILED",
)
# pip's last word when nothing on the index fits a requirement: the requirement follows.
NOT_FOUND = re.compile(r"No matching distribution found for (.+)")
# Requirements-file lines that choose where pip looks.
INDEX_LINES = ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index")


def glibc():
    """This machine's glibc version as (major, minor)."""
    _, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "glibc 2.17").partition(" ")
    major, _, minor = version.partition(".")
    return int(major), int(minor.split(".")[0])


def platform_tags(machine, libc):
    """pip's `--platform` values for MACHINE: every manylinux tag up to LIBC, newest first."""
    major, minor = libc
    tags = [f"manylinux_{major}_{m}_{machine}" for m in range(minor, 16, -1)]
    tags.append(f"manylinux2014_{machine}")
    return tags


def download_args(machine, python, pip_args):
    """`pip download` arguments for the target, or None when the arguments name sources that
    are always built (`--unhashed-requirement`: git and directory sources)."""
    if "--unhashed-requirement" in pip_args:
        return None
    args = ["download", "--only-binary=:all:", "--python-version", python]
    args += ["--implementation", "cp", "--abi", "cp" + python.replace(".", "")]
    for tag in platform_tags(machine, glibc()):
        args += ["--platform", tag]
    return args + list(pip_args)


def pip(args, echo=True):
    """Runs pip in this process; its exit status and what it printed (shown, with ECHO)."""
    sys.argv = ["pip", *args]
    kept = []

    class Tee:
        def __init__(self, stream):
            self._stream = stream

        def write(self, text):
            kept.append(text)
            return self._stream.write(text) if echo else len(text)

        def __getattr__(self, name):
            return getattr(self._stream, name)

    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = Tee(stdout), Tee(stderr)
    try:
        runpy.run_module("pip", run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as exit:
        status = exit.code if isinstance(exit.code, int) else 1
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    return status, "".join(kept)


def unreachable(output):
    return any(symptom in output for symptom in INDEX_SYMPTOMS)


def index_args(pip_args):
    """PIP_ARGS' options that say where pip looks; None when a requirements file says it
    too, since a lookup of one requirement without the file would look elsewhere."""
    args, files = [], []
    words = iter(pip_args)
    for word in words:
        if word == "--no-index":
            args.append(word)
        elif word in ("--index-url", "--extra-index-url", "--find-links"):
            args += [word, next(words)]
        elif word == "--requirement":
            files.append(next(words))
    seen = set()
    try:
        if any(w[0].startswith(INDEX_LINES) for f in files for w in requirement_lines(f, seen)):
            return None
    except OSError:
        return None  # pip says what it cannot read; no verdict without it
    return args


def unbuildable(output, python, pip_args):
    """The requirement the binary download found no wheel for, when the index has no source
    distribution of it either (nothing could build it on the target): [] otherwise, or when
    that cannot be told."""
    found = NOT_FOUND.findall(output)
    where = index_args(pip_args)
    if not found or where is None:
        return []
    requirement = found[-1].strip()
    # Without build isolation pip installs no build backend from the index to read the
    # source's metadata: whether that works or not, the source was found. Its errors would
    # read as the build's in the log, so they are not shown.
    args = ["download", "--no-deps", "--no-binary=:all:", "--no-build-isolation"]
    args += ["--python-version", python, *where]
    with tempfile.TemporaryDirectory() as dest:
        status, output = pip([*args, "--dest", dest, requirement], echo=False)
    if status == 0 or unreachable(output) or not NOT_FOUND.search(output):
        return []
    name = re.split(r"[^A-Za-z0-9._-]", requirement, maxsplit=1)[0]
    return [{"requirement": requirement, "name": normalize(name)}]


def main():
    report, out, machine, python, pip_args = (*sys.argv[1:5], sys.argv[5:])
    os.makedirs(out, exist_ok=True)
    args = download_args(machine, python, pip_args)
    if args is None:
        result = {"complete": False, "why": "git or directory sources are built from source"}
    else:
        status, output = pip([*args, "--dest", out])
        if unreachable(output):
            sys.exit(INDEX_UNREACHABLE)
        if status:
            # pip names the package without a wheel for the target in its output, above.
            result = {"complete": False, "why": "a dependency has no wheel for the target"}
            missing = unbuildable(output, python, pip_args)
            if missing:
                result["why"] += ", and no source distribution to build one from"
                result["unbuildable"] = missing
        else:
            result = {"complete": True}
    os.makedirs(os.path.dirname(report), exist_ok=True)
    with open(report, "w") as file:
        json.dump(result, file)
    print(f"pyslim: wheels for {machine}: {json.dumps(result)}", file=sys.stderr)


if __name__ == "__main__":
    main()
