"""What the tests of the build steps' scripts share: tiny real wheels, a real package index on
127.0.0.1, an environment in which pip sees nothing of this machine's configuration, and ELF
files built with this machine's gcc."""

import base64
import functools
import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent
FETCH_WHEELS = SCRIPTS / "fetch_wheels.py"
INSTALL_WHEELS = SCRIPTS / "install_wheels.py"
BACKEND = SCRIPTS / "backend.py"
LIBRARIES = SCRIPTS / "libraries.py"
MINIMAL = SCRIPTS / "minimal.py"
SMOKE = SCRIPTS / "smoke.py"
SBOM = SCRIPTS / "sbom.py"

# The scripts import elf.py and common.py from beside them; so do the tests.
sys.path.insert(0, str(SCRIPTS))


def project(name):
    """A project's normalized name (PEP 503), as index URLs spell it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def write_wheel(directory, name, version, requires=(), message=""):
    """A pure-Python wheel of a module named after the project. MESSAGE tells apart two wheels
    of one file name."""
    module = project(name).replace("-", "_")
    info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\nMESSAGE = {message!r}\n",
        f"{module}/util.py": "def double(x):\n    return 2 * x\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: pyslim-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}\n")
    files[f"{info}/RECORD"] = "".join(record) + f"{info}/RECORD,,\n"
    path = Path(directory) / f"{module}-{version}-py3-none-any.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for inside, text in files.items():
            archive.writestr(inside, text)
    return path


def write_native_wheel(directory, name, version, members, tag="cp311-cp311-linux_x86_64"):
    """A wheel of MEMBERS (path inside -> bytes, or a file to take them from), with the
    .dist-info a wheel has."""
    files = {
        inside: Path(data).read_bytes() if isinstance(data, (str, Path)) else data
        for inside, data in members.items()
    }
    info = f"{name}-{version}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()
    files[f"{info}/RECORD"] = "".join(f"{p},,\n" for p in [*files, f"{info}/RECORD"]).encode()
    path = Path(directory) / f"{name}-{version}-{tag}.whl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for inside, data in files.items():
            archive.writestr(inside, data)
    return path


def gcc(output, source, *flags):
    """OUTPUT built by gcc from the C SOURCE text, with FLAGS (-shared, -l..., -Wl,...)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    c = output.parent / f"{output.name}.c"
    c.write_text(source)
    result = subprocess.run(
        ["gcc", "-fPIC", "-o", str(output), str(c), *flags], capture_output=True, text=True
    )
    if result.returncode != 0:
        pytest.fail(f"gcc {output.name} failed:\n{result.stderr}")
    c.unlink()
    return output


def wheels(directory):
    """The wheel file names in a directory: what a step hands on."""
    return sorted(p.name for p in Path(directory).glob("*.whl"))


def run(args, env, check=True, cwd=None):
    result = subprocess.run(
        [str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        pytest.fail(f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def env(tmp_path):
    """The environment of every command a test runs. This machine's pip settings (a find-links
    directory, say) would change what pip resolves, so pip reads no configuration, and its cache
    is the test's own. PYTHONPATH goes too, or the venvs would see the test runner's packages,
    and SOURCE_DATE_EPOCH, which would make pip's bytecode hash-based whatever the script does."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "PYTHON", "UV_", "SOURCE_DATE_EPOCH"))
    }
    clean.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_CACHE_DIR=str(tmp_path / "pip-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        PIP_ROOT_USER_ACTION="ignore",
        # A proxy set for this machine must not stand between pip and the index on 127.0.0.1.
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return clean


class Index:
    """A PEP 503 simple index served from a directory, which records the files pip fetches."""

    def __init__(self, root, url):
        self.root = root
        self.url = url
        self.fetched = []
        self._files = {}

    def publish(self, name, version, requires=(), message=""):
        return self.add(write_wheel(self.root / "files", name, version, requires, message))

    def add(self, path):
        """Serves a file written elsewhere under files/ (a platform's wheel, an sdist)."""
        name = path.name.split("-")[0]
        self._files.setdefault(project(name), set()).add(path)
        self._write_page(name)
        return path

    def withdraw(self, path):
        """Takes a file off the index (a release deleted or yanked, a mirror gone stale)."""
        self._files[project(path.name.split("-")[0])].discard(path)
        path.unlink()
        self._write_page(path.name.split("-")[0])

    def _write_page(self, name):
        links = []
        for file in sorted(self._files[project(name)]):
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            links.append(f'<a href="../../files/{file.name}#sha256={digest}">{file.name}</a><br>')
        page = self.root / "simple" / project(name) / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")

    def downloads(self):
        """The wheel files pip fetched so far, by name."""
        return sorted(p.rsplit("/", 1)[-1] for p in self.fetched if p.endswith(".whl"))


@pytest.fixture
def tool_env(env):
    """The environment the scripts that import modules beside them run in: no bytecode of those
    modules in the source tree."""
    return {**env, "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def index(tmp_path):
    root = tmp_path / "index"
    root.mkdir()
    fetched = []

    failing = {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            fetched.append(self.path)
            name = self.path.rsplit("/", 1)[-1]
            if failing.get(name) == 0:
                del failing[name]
                self.send_error(503, "busy, try again")
                return
            if name in failing:
                failing[name] -= 1
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    served = Index(root, f"http://127.0.0.1:{server.server_address[1]}/simple/")
    served.fetched = fetched
    # File name -> how many of its requests are served before one fails, as a busy index or
    # proxy fails one now and then.
    served.failing = failing
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
def venv(tmp_path, env):
    """A throwaway Python environment to install into. It sees this interpreter's packages, pip
    among them, rather than taking seconds to install a pip of its own: `python -m pip` in it
    is the pip the other tests run, installing into the venv."""
    path = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", path], env)
    return path
