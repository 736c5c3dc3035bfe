"""Ask a project's PEP 517 build backend, in this process and without pip.

Usage: python backend.py metadata PROJECT_DIR OUT
       python backend.py wheel PROJECT_DIR OUT

`metadata`: write the dependencies the backend reports as OUT/requirements.txt. For a project
whose dependencies only its build backend knows (a setup.py that computes `install_requires`, a
pyproject.toml with `dynamic = ["dependencies"]`). The backend is asked through the PEP 517
hook `prepare_metadata_for_build_wheel`, the way pip asks it: the step that runs this sees the
project's metadata files and not its code, so that editing the code neither runs this again nor
rebuilds the dependency wheels. OUT/requirements.txt gets the `Requires-Dist` lines of the
metadata, markers kept. Those of an extra are left out: no extra of the app is asked for.

setuptools, asked for metadata, also lists the project's files (SOURCES.txt), and fails on a
package directory that is not there, as none is here. That list is no part of the metadata:
`egg_info.find_sources`, which makes it (setuptools 40 to 84 at least), is told to list none.

`wheel`: build the project's wheel into OUT with the hook `build_wheel`. This is what
`pip wheel --no-deps --no-build-isolation` does, less pip: starting pip, asking the backend
for metadata first and checking what it says take as long as building a small app's wheel, and
an app-code edit rebuilds nothing else.
"""

import email.parser
import importlib
import os
import re
import sys
import tempfile

# PEP 517: a pyproject.toml without `build-backend`, or none at all, means setuptools' legacy
# backend, which runs setup.py as `setup.py install` would.
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"

# A marker that names `extra` holds only when an extra is asked for.
EXTRA = re.compile(r"\bextra\b")


def load_toml(path):
    try:
        import tomllib
    except ImportError:  # Python before 3.11: pip carries a TOML reader of its own.
        from pip._vendor import tomli as tomllib
    with open(path, "rb") as file:
        return tomllib.load(file)


def build_system(project):
    path = os.path.join(project, "pyproject.toml")
    if not os.path.exists(path):
        return {}
    return load_toml(path).get("build-system", {})


def import_backend(name, backend_path, project):
    # In-tree backends (PEP 517 `backend-path`) are imported from the project itself.
    for entry in reversed(backend_path):
        sys.path.insert(0, os.path.join(project, entry))
    module, _, attribute = name.partition(":")
    backend = importlib.import_module(module)
    for part in attribute.split(".") if attribute else []:
        backend = getattr(backend, part)
    return backend


def list_no_sources():
    try:
        from setuptools.command.egg_info import FileList, egg_info
    except ImportError:
        return

    def find_sources(self):
        self.filelist = FileList()

    egg_info.find_sources = find_sources


def requirements(metadata):
    """The requirement lines of a METADATA file's text, without those of extras."""
    message = email.parser.Parser().parsestr(metadata)
    kept = []
    for requirement in message.get_all("Requires-Dist") or []:
        _, _, marker = requirement.partition(";")
        if not EXTRA.search(marker):
            kept.append(requirement.strip())
    return kept


def backend_of(project):
    system = build_system(project)
    name = system.get("build-backend", DEFAULT_BACKEND)
    # Hooks run in the project's directory (PEP 517), as setup.py expects.
    os.chdir(project)
    return name, import_backend(name, system.get("backend-path", []), project)


def metadata(project, out):
    name, backend = backend_of(project)
    prepare = getattr(backend, "prepare_metadata_for_build_wheel", None)
    if prepare is None:
        sys.exit(
            f"pyslim: the build backend {name} cannot tell the app's dependencies without "
            "building its wheel (it has no prepare_metadata_for_build_wheel hook): list them "
            "in a requirements file under `requirements:`"
        )
    list_no_sources()
    with tempfile.TemporaryDirectory() as scratch:
        info = prepare(scratch)
        with open(os.path.join(scratch, info, "METADATA"), encoding="utf-8") as file:
            found = requirements(file.read())
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "requirements.txt"), "w", encoding="utf-8") as file:
        file.writelines(f"{line}\n" for line in found)
    print(f"pyslim: {name} says the app depends on: {' '.join(found) or 'nothing'}")


def wheel(project, out):
    name, backend = backend_of(project)
    os.makedirs(out, exist_ok=True)
    built = backend.build_wheel(out)
    print(f"pyslim: {name} built {built}")


COMMANDS = {"metadata": metadata, "wheel": wheel}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    project, out = os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    COMMANDS[sys.argv[1]](project, out)


if __name__ == "__main__":
    main()
