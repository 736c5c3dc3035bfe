"""The build's smoke test: import every module the image's distributions install, and run the
spec's test command.

Usage: python smoke.py [--wheels DIR]... [--source DIR] [--skip MODULE]...
           [--compile-root DIR] [--timeout SECONDS] [--user UID:GID] [--report FILE]
           [-- TEST ARGV...]

Runs in the finished image, as its user, without network: what fails here would fail when the
app starts, and is cheaper to learn at build time. The modules are the top-level ones of the
distribution of each wheel in the `--wheels` directories (its top_level.txt, or else the first
component of the paths its RECORD names), and those of an app's source directory (`--source`,
put first on sys.path for them). `--skip` leaves some out: a module that starts a server at
import, or needs a service. A name --skip gives that is not among them is an error, so that a
typo does not pass for a skip.

The imports run in a worker process, one module after the other: a module that crashes the
interpreter (a segfault in an extension), calls os._exit or hangs fails alone, and a new worker
goes on with the next. The worker hears which module to import, and answers, on pipes of its
own: a module may read stdin or print to stdout. Each import gets --timeout seconds (60).

A failure that names a shared library the loader could not open gets a hint: the Debian package
that has it in the compile image (--compile-root), looked up as libraries.py does.

Then the test command, if any, runs with the image's environment and working directory, stdin
closed. Exit status 0 when every import and the test passed, 1 otherwise, 2 for bad arguments.

`--user UID:GID`: the imports and the test run as that user (with its HOME), as the container
would, while this script (root) writes `--report`: a JSON file of what failed — each module
with its distribution, version, wheel directory, error, and the missing library and its
package — the test's exit status, and every module found. With a report, the exit status is 0
once it is written, and a --skip name not found is no error: the frontend reads the reports of
both its steps (the dependencies', the app's), checks the names against all they found, and
fails the build at the line that asked for what failed.
"""

import argparse
import contextlib
import functools
import importlib.metadata
import json
import keyword
import os
import pwd
import re
import select
import signal
import subprocess
import sys
import time

# elf.py and common.py lie beside this script; sys.path has the script's directory first, but
# not under -I, -P or PYTHONSAFEPATH.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
import elf

DEFAULT_TIMEOUT = 60
# Lines of a failed import's traceback shown: the last ones, where it failed.
TRACEBACK_LINES = 12

# What the worker runs, with `python -c` (see `Worker`): argv names its pipes and the source
# directory. sys.path[0] is the working directory under -c: what the image runs would not see
# it, so the worker does not either.
WORKER = r"""
import json, os, sys, traceback
commands = os.fdopen(int(sys.argv[1]), "r", encoding="utf-8")
results = int(sys.argv[2])
source = sys.argv[3]
sys.argv = ["-c"]
del sys.path[0]
if source:
    sys.path.insert(0, source)
for line in commands:
    name = line.strip()
    if not name:
        break
    try:
        __import__(name)
        result = {"module": name, "ok": True}
    except BaseException as error:
        try:
            message = str(error)
        except BaseException:
            message = "(the exception cannot be shown)"
        text = type(error).__name__ + (": " + message if message else "")
        # The frames of this loop and of importlib's machinery say nothing of the module.
        trace = traceback.TracebackException.from_exception(error)
        trace.stack = traceback.StackSummary.from_list(
            [f for f in trace.stack if not f.filename.startswith(("<string>", "<frozen importlib"))]
        )
        result = {"module": name, "ok": False, "error": text, "traceback": "".join(trace.format())}
    # What the module printed, before a later module can crash with it unwritten.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    data = (json.dumps(result) + "\n").encode()
    while data:
        data = data[os.write(results, data):]
# Threads a module started would keep a normal exit waiting.
os._exit(0)
"""

# A loader's words for a library it could not open, and a library's name in other words.
CANNOT_OPEN = re.compile(r"([^\s:'\"]+\.so(?:\.[0-9]+)*): cannot open shared object file")
LIBRARY = re.compile(r"\b(lib[A-Za-z0-9_+.-]*?\.so(?:\.[0-9]+)*)\b")


class Usage(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def is_module_name(name):
    return name.isidentifier() and not keyword.iskeyword(name)


def record_modules(files):
    """The top-level modules RECORD's paths install."""
    found = set()
    for path in files:
        parts = str(path).replace("\\", "/").split("/")
        first = parts[0]
        if ".." in parts or first.endswith((".dist-info", ".data")) or first == "__pycache__":
            continue
        if len(parts) == 1:
            if first.endswith(".py"):
                name = first[:-3]
            elif first.endswith(".so"):
                # name.cpython-312-x86_64-linux-gnu.so, name.abi3.so, name.so
                name = first.split(".")[0]
            else:
                continue
        elif parts[-1].endswith((".py", ".so")):
            name = first
        else:
            continue
        # numpy.libs/ holds libraries, not modules.
        if is_module_name(name):
            found.add(name)
    return found


def installed_distributions():
    """{normalized name: [the installed distributions of that name]}."""
    found = {}
    for dist in importlib.metadata.distributions():
        found.setdefault(common.normalize(dist.metadata["Name"] or ""), []).append(dist)
    return found


def distribution_modules(wheel, installed):
    """(distribution name, version, its top-level modules) of the installed distribution of a
    wheel; the modules are None when it is not installed."""
    name, version = (*os.path.basename(wheel).split("-"), "")[:2]
    # The one of the wheel's version, if there are several.
    found = sorted(installed.get(common.normalize(name), ()), key=lambda d: d.version != version)
    if not found:
        return name, version, None
    dist = found[0]
    top_level = dist.read_text("top_level.txt")
    if top_level is not None:
        names = {line.strip().replace("/", ".") for line in top_level.splitlines()}
    else:
        names = record_modules(dist.files or ())
    # A distribution that ships its tests as a top-level package does not mean them to be
    # imported: they need pytest, or data left out of the wheel.
    modules = {
        n
        for n in names
        if n and all(is_module_name(p) for p in n.split(".")) and n not in ("test", "tests")
    }
    return dist.metadata["Name"], dist.version, sorted(modules)


SOURCE_LEFT_OUT = {"setup", "manage", "conftest", "__main__", "test", "tests"}


def source_modules(directory):
    """The top-level modules of an app's source directory: its .py files and packages."""
    found = set()
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            stem = name
            if not os.path.exists(os.path.join(path, "__init__.py")):
                continue
        elif name.endswith(".py"):
            stem = name[:-3]
            if stem.startswith("test_") or stem.endswith("_test"):
                continue
        else:
            continue
        if is_module_name(stem) and stem not in SOURCE_LEFT_OUT:
            found.add(stem)
    return sorted(found)


class Worker:
    """A process that imports the modules it is sent, and answers with each result."""

    def __init__(self, source, as_user):
        commands_read, self._commands = os.pipe()
        self._results, results_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(commands_read), str(results_write), source or ""],
            stdin=subprocess.DEVNULL,
            # What modules print goes to the build's log, not into anything read here.
            stdout=sys.stderr.fileno(),
            pass_fds=(commands_read, results_write),
            # Its own process group: what a module starts goes with it.
            start_new_session=True,
            **as_user,
        )
        os.close(commands_read)
        os.close(results_write)
        self._buffer = b""
        self.timed_out = False

    def ask(self, name, timeout):
        """The result of importing NAME: a dict from the worker, or None when the worker died or
        ran out of time (see `failure`). Raises BrokenPipeError when the worker was gone before
        it heard the name."""
        os.write(self._commands, (name + "\n").encode())
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self.timed_out = True
                return None
            ready, _, _ = select.select([self._results], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._results, 65536)
            if not chunk:
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def failure(self, timeout):
        """Why the worker gave no answer: it exited, was killed, or is still importing (then it
        is killed)."""
        if self.timed_out:
            self.stop(wait=False)
            return (
                f"import did not finish in {timeout:g} s: a module that starts a server or waits "
                "for a service at import belongs in smoke-test: skip"
            )
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.stop(wait=False)
            return "the interpreter closed its end of the pipe during the import"
        self.stop(wait=False)
        return f"the interpreter {ended(status)} during the import"

    def stop(self, wait=True):
        """Ends the worker (WAIT: when it has finished what it was told), and whatever its
        modules started."""
        if wait and self.process.poll() is None:
            try:
                os.write(self._commands, b"\n")
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for fd in (self._commands, self._results):
            os.close(fd)
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def import_all(modules, source, timeout, as_user):
    """{module: None if it imported, else (error, traceback)}, in a worker that a failing module
    takes down with it."""
    results = {}
    worker = None
    try:
        for name in modules:
            if worker is None:
                worker = Worker(source, as_user)
            try:
                result = worker.ask(name, timeout)
            except BrokenPipeError:
                # The worker died before it heard the name (a thread an earlier module started
                # ended it): a new one is asked.
                worker.stop()
                worker = Worker(source, as_user)
                result = worker.ask(name, timeout)
            if result is None:
                why = worker.failure(timeout)
                worker = None
                result = {"module": name, "ok": False, "error": why, "traceback": ""}
            results[name] = None if result["ok"] else (result["error"], result["traceback"])
    finally:
        if worker is not None:
            worker.stop()
    return results


@functools.lru_cache(maxsize=None)
def compile_image(root):
    """The loader and dpkg database of the compile image, read once for all failures."""
    loader = elf.Loader(root)
    return loader, elf.Dpkg(loader.root)


# Modules that exist only inside the program that runs the app, which installed packages
# import at the top: uwsgidecorators imports `uwsgi`, which the uWSGI server makes when it
# loads the app. Such an import fails everywhere else, the image included.
EMBEDDED = {"uwsgi": "the uWSGI server"}


def embedded_in(error):
    """(module, program) when ERROR is an import of a module only a program embeds."""
    match = re.fullmatch(r"ModuleNotFoundError: No module named '([\w.]+)'", error)
    name = match.group(1).split(".")[0] if match else None
    return (name, EMBEDDED[name]) if name in EMBEDDED else None


def missing_libraries(text, compile_root, kind):
    """[(library, Debian package or None, path in the compile image or None)] for each shared
    library TEXT says could not be loaded."""
    names = set(CANNOT_OPEN.findall(text))
    if "ctypes" in text or "find_library" in text or "CDLL" in text:
        names.update(LIBRARY.findall(text))
    names = sorted({os.path.basename(n) for n in names})
    if not names or not compile_root:
        return [(name, None, None) for name in names]
    loader, dpkg = compile_image(compile_root)
    found = []
    for name in names:
        path = loader.search(name, kind)
        owner = dpkg.owner(path) if path else None
        found.append((name, owner[0] if owner else None, path))
    return found


def library_hints(libraries):
    """A line for each library `missing_libraries` found: the package to add, or why none."""
    hints = []
    for name, package, path in libraries:
        if package:
            hints.append(f"{name} is in Debian package {package}: add it to runtime:")
        elif path:
            hints.append(
                f"{name} is in the compile image at {path}, but no Debian package installed it"
            )
        else:
            hints.append(f"no Debian package of the compile image provides {name}")
    return hints


def interpreter_kind():
    try:
        found = elf.read(os.path.realpath(sys.executable))
    except (OSError, elf.ElfError):
        found = None
    return found.kind if found else None


def run_test(argv, as_user):
    """(the test command's exit status, how it failed or None when it passed)."""
    try:
        status = subprocess.call(argv, stdin=subprocess.DEVNULL, **as_user)
    except OSError as error:
        return 127, f"cannot run {argv[0]}: {error.strerror}"
    return status, (ended(status) if status else None)


def user(spec):
    """Popen's arguments that run a process as UID:GID (the image's user) with that user's
    HOME, as the container would; none without --user."""
    if not spec:
        return {}
    try:
        uid, gid = (int(part) for part in spec.split(":"))
    except ValueError:
        raise Usage(f"--user {spec}: expected UID:GID") from None
    try:
        home = pwd.getpwuid(uid).pw_dir
    except KeyError:
        home = "/"
    env = dict(os.environ, HOME=home)
    return {"user": uid, "group": gid, "extra_groups": [], "env": env}


def ended(status):
    """How a process that exited with STATUS (a Popen returncode) ended."""
    if status >= 0:
        return f"exited with status {status}"
    try:
        return f"was killed by {signal.Signals(-status).name}"
    except ValueError:
        return f"was killed by signal {-status}"


def main(argv):
    test = []
    if "--" in argv:
        at = argv.index("--")
        argv, test = argv[:at], argv[at + 1 :]
    parser = Parser(prog="smoke.py", add_help=False)
    parser.add_argument("--wheels", action="append", default=[])
    parser.add_argument("--source")
    parser.add_argument("--skip", action="append", default=[])
    parser.add_argument("--compile-root")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument("--report")
    parser.add_argument("--user")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        raise Usage("--timeout must be a positive number of seconds")
    as_user = user(args.user)

    start = time.monotonic()
    # module -> where it comes from: its distribution, version and wheel directory, or None for
    # the app's source.
    origin = {}
    failures = []
    reported = []
    distributions = 0
    installed = None
    for directory in args.wheels:
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".whl"))
        except OSError as error:
            raise Usage(f"cannot list {directory}: {error.strerror}") from None
        for wheel in names:
            if installed is None:
                installed = installed_distributions()
            name, version, modules = distribution_modules(wheel, installed)
            distributions += 1
            if modules is None:
                failures.append(f"pyslim: smoke test: {name} {version} ({wheel}) is not installed")
                reported.append(
                    {
                        "module": name,
                        "distribution": name,
                        "version": version,
                        "directory": directory,
                        "error": f"{wheel} is not installed in the image",
                        "library": None,
                        "package": None,
                    }
                )
                continue
            for module in modules:
                origin.setdefault(module, (name, version, directory))
    if args.source:
        try:
            found = source_modules(args.source)
        except OSError as error:
            raise Usage(f"cannot list {args.source}: {error.strerror}") from None
        for module in found:
            origin.setdefault(module, None)
    unknown = sorted(set(args.skip) - set(origin))
    # With a report, the frontend checks the names against every step's modules: a step sees
    # only the dependencies' or only the app's.
    if unknown and not args.report:
        raise Usage(
            f"--skip {' '.join(unknown)}: no such module among those found: "
            f"{' '.join(sorted(origin)) or '(none)'}"
        )
    modules = sorted(set(origin) - set(args.skip))

    results = import_all(modules, args.source, args.timeout, as_user)
    kind = interpreter_kind()
    for module in modules:
        if results[module] is None:
            continue
        error, trace = results[module]
        host = embedded_in(error)
        if host:
            # Importable only where it runs: not a fault of the image.
            print(
                f"pyslim: smoke test: {module} imports {host[0]}, which only {host[1]} "
                "provides when it runs the app: not imported here",
                file=sys.stderr,
            )
            results[module] = None
            continue
        where = origin[module]
        said = f"{where[0]} {where[1]}" if where else f"the app's source in {args.source}"
        lines = [f"pyslim: smoke test: import {module} (from {said}) failed: {error}"]
        tail = [line for line in trace.rstrip("\n").splitlines() if line.strip()]
        lines += [f"    {line}" for line in tail[-TRACEBACK_LINES:]]
        libraries = missing_libraries(f"{error}\n{trace}", args.compile_root, kind) if kind else []
        lines += [f"pyslim: smoke test: {hint}" for hint in library_hints(libraries)]
        failures.append("\n".join(lines))
        # The first library with a package is the one to name: the others come with it, or
        # have none.
        library = next((lib for lib in libraries if lib[1]), libraries[0] if libraries else None)
        reported.append(
            {
                "module": module,
                "distribution": where[0] if where else None,
                "version": where[1] if where else None,
                "directory": where[2] if where else "",
                "error": error,
                "library": library[0] if library else None,
                "package": library[1] if library else None,
            }
        )

    # Before the test command runs: its output would come between the imports and their
    # failures.
    for failure in failures:
        print(failure, file=sys.stderr)
    test_run = None
    if test:
        status, why = run_test(test, as_user)
        test_run = {"status": status}
        if why:
            failures.append(f"pyslim: smoke test: the test command {' '.join(test)} {why}")
            print(failures[-1], file=sys.stderr)
    passed = sum(1 for m in modules if results[m] is None)
    seconds = time.monotonic() - start
    summary = (
        f"pyslim: smoke test: imported {passed} modules of {distributions} distributions "
        f"in {seconds:.1f} s"
    )
    if failures:
        summary += f"; {len(failures)} failed"
    print(summary, file=sys.stderr)
    if args.report:
        # The frontend reads the report and fails the build itself, at the line that asked
        # for what failed: the step has done its job when the report is written.
        os.makedirs(os.path.dirname(args.report), exist_ok=True)
        with open(args.report, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "modules": passed,
                    "distributions": distributions,
                    "seconds": round(seconds, 3),
                    "found": sorted(origin),
                    "failures": reported,
                    "test": test_run,
                },
                out,
                indent=1,
                sort_keys=True,
            )
        return 0
    return 1 if failures else 0


if __name__ == "__main__":
    common.run(main, "smoke.py", Usage, 2)
