"""Report the shared libraries the wheels need that the runtime image lacks, and the Debian
packages that have them.

Usage: python libraries.py --report FILE --compile-root DIR WHEEL-DIRECTORY...

Runs in the runtime image, before the wheels are installed: its `/` is what the app will run
on. A wheel built in the compile image links whatever libraries that image had (libxml2 for
lxml built from source, libpq for psycopg2); the runtime image has only the packages the spec
lists under `runtime:`. A library missing there shows only when the app imports the module, in
production. So every ELF file of every wheel is read from the wheel, in memory (nothing is
extracted), placed at the path it will be installed to, and its libraries looked up as glibc's
loader would in this image (elf.py). All wheels together are one tree: an extension's RUNPATH
may point into another wheel's `.libs` directory, and the libraries a wheel bundles are found
there, not in the image.

Each library not found is looked up the same way in the compile image (mounted at
--compile-root), and the Debian package that installed it there named, with its version: the
package to add under `runtime:`. The libraries that library needs and the runtime image lacks
are reported too (apt would install them with it).

The report (JSON, see `report`) is written whatever was found, and the exit status is 0: the
frontend decides what is an error. Exit status 2, with one line on stderr, for bad arguments or
a wheel that cannot be read.
"""

import argparse
import json
import os
import posixpath
import sys
import sysconfig
import zipfile
import zlib

# elf.py and common.py lie beside this script; sys.path has the script's directory first, but
# not under -I, -P or PYTHONSAFEPATH.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
import elf

USAGE = "libraries.py --report FILE --compile-root DIR WHEEL-DIRECTORY..."


class Usage(Exception):
    """Bad arguments, or a wheel that cannot be read: exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def wheel_files(directories):
    found = []
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError as error:
            raise Usage(f"cannot list {directory}: {error.strerror}") from None
        found += [os.path.join(directory, n) for n in sorted(names) if n.endswith(".whl")]
    return found


def install_path(member, paths):
    """Where a wheel's member is installed (PEP 427), None for one that is not (headers)."""
    first, _, rest = member.partition("/")
    if first.endswith(".data") and rest:
        scheme, _, inside = rest.partition("/")
        directory = {
            "scripts": paths["scripts"],
            "purelib": paths["platlib"],
            "platlib": paths["platlib"],
            "data": paths["data"],
        }.get(scheme)
        if directory is None or not inside:
            return None
        return posixpath.normpath(posixpath.join(directory, inside))
    return posixpath.normpath(posixpath.join(paths["platlib"], member))


def elf_members(wheel, paths):
    """[(install path, Elf or ElfError)] of a wheel's ELF files. Each is read where it lies in
    the archive: at most its header, program headers, dynamic section and the strings those
    name, however large the file."""
    found = []
    try:
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if info.is_dir() or info.file_size < 4:
                    continue
                with archive.open(info) as member:
                    if not elf.is_elf(member.read(4)):
                        continue
                    path = install_path(info.filename, paths)
                    if path is None:
                        continue
                    try:
                        found.append((path, elf.parse(member, info.file_size)))
                    except elf.ElfError as error:
                        found.append((path, error))
    except (
        OSError,
        EOFError,
        ValueError,
        zipfile.BadZipFile,
        zlib.error,
        RuntimeError,
        NotImplementedError,
    ) as error:
        raise Usage(f"cannot read the wheel {wheel}: {error}") from None
    return found


def interpreter_kind():
    """(class, machine) of the running interpreter: what an ELF file must be to be loaded."""
    try:
        found = elf.read(os.path.realpath(sys.executable))
    except (OSError, elf.ElfError):
        found = None
    if found is not None:
        return found.kind
    machine = {"x86_64": elf.EM_X86_64, "aarch64": elf.EM_AARCH64}.get(os.uname().machine)
    return (64 if sys.maxsize > 2**32 else 32, machine)


def scan(wheels, paths, root, compile_root, library_path=()):
    """The report's content (see `report`), and the warnings to print."""
    kind = interpreter_kind()
    root = elf.Root(root)
    virtual, origin, warnings, elf_count = {}, {}, [], 0
    # Which directory each wheel came from: the frontend tells the app's from the dependencies'.
    directory_of = {}
    for wheel in wheels:
        name = os.path.basename(wheel)
        directory_of[name] = os.path.dirname(wheel)
        distribution, version = (*name.split("-"), "")[:2]
        for path, found in elf_members(wheel, paths):
            elf_count += 1
            # As the loader names what it finds: the site directory's symlinks resolved.
            path = root.resolve(path) or path
            if isinstance(found, elf.ElfError):
                warnings.append(f"pyslim: {path} in {name} is not a readable ELF file: {found}")
                continue
            # An ELF file for another machine (a bundled firmware, a foreign helper) is never
            # loaded here: what it names is no concern.
            if found.kind != kind or path in virtual:
                continue
            virtual[path] = found
            origin[path] = (name, distribution, version)

    runtime = elf.Loader(root, virtual=virtual, library_path=library_path)
    closure = runtime.closure(virtual)
    reach = {path: closure.reaching(path) for path in sorted(virtual)}

    # missing name -> {(wheel, distribution, version, file, via)}; via: the missing library
    # that needs it, or None when what needs it is a wheel's file or a library the image has.
    needed_by = {}
    for needer, name in closure.unresolved:
        via = None
        if needer not in virtual:
            via = closure.objects[needer].soname or posixpath.basename(needer)
        for path, reached in reach.items():
            if needer in reached:
                needed_by.setdefault(name, set()).add((*origin[path], path, via))

    compile_loader = elf.Loader(compile_root)
    dpkg = elf.Dpkg(compile_loader.root)
    found, children = {}, {}
    todo = sorted(needed_by)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        path = compile_loader.search(name, kind)
        found[name] = path
        children[name] = set()
        try:
            library = compile_loader.object(path) if path else None
        except elf.ElfError:
            library = None
        for child in library.needed if library else ():
            if runtime.find(child, path, library) is None:
                children[name].add(child)
                todo.append(child)

    # What needs a library that a missing library needs: whatever needs that one.
    origins = {name: {entry[:4] for entry in entries} for name, entries in needed_by.items()}
    changed = True
    while changed:
        changed = False
        for parent, names in sorted(children.items()):
            for child in names:
                entries = needed_by.setdefault(child, set())
                size = len(entries)
                entries.update((*o, parent) for o in origins.get(parent, ()))
                grown = origins.setdefault(child, set())
                before = len(grown)
                grown.update(origins.get(parent, ()))
                changed = changed or len(entries) != size or len(grown) != before

    missing = []
    for name in sorted(needed_by):
        path = found.get(name)
        owner = dpkg.owner(path) if path else None
        package = arch = provided_by = version = None
        if owner is not None:
            package, arch, provided_by = owner
            version = dpkg.version(package, arch)
        missing.append(
            {
                "library": name,
                "package": package,
                "package_version": version,
                "provided_by": provided_by,
                "compile_path": path,
                "needed_by": [
                    {
                        "wheel": wheel,
                        "distribution": distribution,
                        "version": version_,
                        "file": file,
                        "via": via,
                        "directory": directory_of.get(wheel, ""),
                    }
                    for wheel, distribution, version_, file, via in sorted(
                        needed_by[name], key=lambda e: (*e[:4], e[4] or "")
                    )
                ],
            }
        )
    scanned = {"wheels": len(wheels), "elf_files": elf_count}
    return {"version": 1, "scanned": scanned, "missing": missing}, warnings


def describe(entry):
    """One line of stderr for a missing library."""
    first = entry["needed_by"][0]
    if first["via"]:
        needer = f"{first['via']}, which {first['file']} from {first['wheel']} loads"
    else:
        needer = f"{first['file']} from {first['wheel']}"
    more = len({(e["wheel"], e["file"]) for e in entry["needed_by"]}) - 1
    if more:
        needer += f" and {more} more"
    line = f"pyslim: {entry['library']} (needed by {needer}) is not in the runtime image; "
    if entry["package"]:
        return line + f"Debian package {entry['package']} provides it"
    if entry["compile_path"]:
        return line + (
            f"the compile image has it at {entry['compile_path']}, but no Debian package "
            "installed it there"
        )
    return line + "no Debian package of the compile image provides it"


def main(argv):
    parser = Parser(prog="libraries.py", usage=USAGE, add_help=False)
    parser.add_argument("--report", required=True)
    parser.add_argument("--compile-root", required=True)
    # The runtime image's root: `/`, but for the tests.
    parser.add_argument("--root", default="/", help=argparse.SUPPRESS)
    parser.add_argument("directories", nargs="+")
    args = parser.parse_args(argv)
    paths = {name: sysconfig.get_path(name) for name in ("platlib", "scripts", "data")}
    wheels = wheel_files(args.directories)
    # The image's LD_LIBRARY_PATH is the app's too.
    library_path = os.environ.get("LD_LIBRARY_PATH", "").split(":") if args.root == "/" else ()
    report, warnings = scan(wheels, paths, args.root, args.compile_root, library_path)
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as file:
        json.dump(report, file, indent=2)
        file.write("\n")
    for line in warnings:
        print(line, file=sys.stderr)
    for entry in report["missing"]:
        print(describe(entry), file=sys.stderr)
    scanned = report["scanned"]
    print(
        f"pyslim: scanned {scanned['elf_files']} ELF files in {scanned['wheels']} wheels: "
        f"{len(report['missing'])} libraries missing",
        file=sys.stderr,
    )


if __name__ == "__main__":
    common.run(main, "libraries.py", Usage, 2)
