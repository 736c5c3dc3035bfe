"""pip run in this process, where the hooks of `fetch_wheels.py` see it, and what decides
whether pip alone can do a run: its own settings, and the options of its requirements files.

When pip fails, the frontend sees only the exit code, not the log: so `pip` reads pip's output
as it passes and returns INDEX_UNREACHABLE when it shows an index pip could not reach or that
refused it, NEEDS_SYSTEM when it shows a build stopped by a missing compiler, header or tool,
and pip's own status otherwise. The frontend's advice follows the code.
"""

import os
import runpy
import sys

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
