"""Gather what a Python app needs to run into a root filesystem of its own, one layer at a time.

Usage: python minimal.py --out DIR --layer interpreter|packages|app [--have DIR]...
           [--user NAME] [--package DEB]... [--wheels DIR]... [--path ABS]...

Runs in the finished slim image (Debian, the interpreter, the runtime packages and what pyslim
installed). The frontend copies OUT onto an empty image: the minimal image is the slim one
without the shell, the package manager and every file the app cannot reach, in three layers
that change at different rates:

- interpreter: the running interpreter and its standard library (without the test suites, IDLE,
  tkinter, ensurepip, lib2to3, pydoc's topics, the build-time config directory, and the
  extension modules of terminals and dead batteries: see EXTENSIONS_LEFT_OUT), the libraries
  they load,
  the loader, the CA certificates, os-release, /etc/passwd and /etc/group with root and the
  image's user only, the user's home directory, /tmp, and every file of the `--package`s (the
  spec's runtime packages, documentation left out).
- packages: for each wheel in the `--wheels` directories, the files of the installed
  distribution (its RECORD, its .dist-info, the bytecode of its sources).
- app: the same for the app's wheel, and each `--path` tree as it is (the workdir).

Each layer also gathers the ELF closure of its files: the libraries they need, found as glibc's
loader finds them in this image (elf.py), and those libraries' own. A file a `--have` root (an
earlier layer, mounted read-only) holds is not gathered again. Files keep their mode, owner and
symlinks; a symlink is gathered with what it leads to.

dpkg's records, as distroless keeps them: OUT/var/lib/dpkg/status.d/NAME holds the stanza of
/var/lib/dpkg/status of each package that owns a gathered file, so that scanners see what the
image holds (and nothing more: no other file of /var/lib/dpkg).

Exits non-zero, naming the file, when something cannot be gathered, or when a file needs a
library that is nowhere in the image: the minimal image would fail where the slim one did not
show it. Prints what it gathered to stderr.
"""

import argparse
import csv
import glob
import json
import os
import posixpath
import shutil
import site
import stat
import sys
import sysconfig

# elf.py and common.py lie beside this script; sys.path has the script's directory first, but
# not under -I, -P or PYTHONSAFEPATH.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
import elf

# Left out of the standard library: no app imports them at run time.
STDLIB_LEFT_OUT = {
    "idlelib",
    "tkinter",
    "turtledemo",
    "ensurepip",
    "lib2to3",
    "__phello__",
    # pydoc's help topics, for interactive `help()`.
    "pydoc_data",
    # Installed packages come from the packages layer, not the base image: pip, setuptools.
    "site-packages",
    "dist-packages",
}
TEST_DIRECTORIES = {"test", "tests", "idle_test"}
# Extension modules of the test suite, and _tkinter, whose Tcl/Tk libraries the official images
# remove after building it. Then those that serve an interactive terminal (readline, curses) and
# the dead batteries of PEP 594 that link libraries of their own (nis: NIS over Sun RPC and
# Kerberos; crypt, spwd, ossaudiodev), and dbm.ndbm (Berkeley DB, 1.8 MB; dbm falls back to
# dbm.dumb): 6 MB of libraries a server never loads. One that an installed package imports
# fails the smoke test by name, and `flavor: slim` has them all.
EXTENSIONS_LEFT_OUT = (
    "_test",
    "xxlimited",
    "_xxtestfuzz",
    "_ctypes_test",
    "_tkinter",
    "readline",
    "_curses",
    "nis",
    "_crypt",
    "spwd",
    "ossaudiodev",
    "_dbm",
)
# Of a package, the files no program reads.
DOCUMENTATION = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/share/lintian/")
# Never copied, whatever asks for them: the minimal image gets its own passwd and group.
SECRETS = {
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/passwd",
    "/etc/passwd-",
    "/etc/group",
    "/etc/group-",
}
# dpkg's own files: the minimal image gets the records of status.d alone.
DPKG = "/var/lib/dpkg/"


def left_out(path):
    return path in SECRETS or path.startswith(DPKG)


# The top-level symlinks of merged /usr.
USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
CA_CERTIFICATES = "/etc/ssl/certs/ca-certificates.crt"


class Error(Exception):
    pass


def python_info(override):
    """What the interpreter layer gathers of the running interpreter: its executable, the
    directories of its standard library, its site-packages directories. OVERRIDE (JSON) replaces
    some, for the tests."""
    stdlib = [sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")]
    dynload = sysconfig.get_config_var("DESTSHARED")
    if dynload:
        stdlib.append(dynload)
    sites = [sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]
    sites += site.getsitepackages() if hasattr(site, "getsitepackages") else []
    info = {
        "executable": sys.executable,
        "version": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "stdlib": stdlib,
        "site": sites,
    }
    info.update(json.loads(override) if override else {})
    if not info["executable"]:
        raise Error("the interpreter does not know its own executable (sys.executable is empty)")
    return info


class Layer:
    """The files, symlinks and directories a layer gathers from the root, and how it writes
    them."""

    def __init__(self, root, out, haves):
        self.root = elf.Root(root)
        self.out = os.path.abspath(out)
        self.haves = [os.path.abspath(h) for h in haves]
        self.files = {}  # path in OUT -> the path of the regular file in the root it copies
        self.links = {}  # path -> target, of the symlinks
        self.dirs = {}  # path -> (mode, uid, gid), or None: as in the root
        self.generated = {}  # path -> (bytes, mode, uid, gid)
        self.warnings = []

    def add(self, path, required=True):
        """The file or symlink at PATH, the symlinks on the way and at its end, and the file they
        lead to; a symlink that leads nowhere alone, unless REQUIRED. A directory adds nothing
        (its files are added one by one). Returns the path of the file, if it is one."""
        path = posixpath.join("/", path)
        walked = self.root.walk(path)
        if walked is None:
            raise Error(f"{path}: too many levels of symbolic links")
        real, links = walked
        if left_out(path) or left_out(real):
            return None
        try:
            st = self.root.lstat(real)
        except OSError:
            if required:
                raise Error(f"{path} is not in the image") from None
            st = None
        for link, target in links:
            self.links[link] = target
        if st is not None and stat.S_ISREG(st.st_mode):
            self.files[real] = real
            return real
        return None

    def add_directory(self, path, mode=None):
        """A directory, created as in the root (or with MODE, owned by root)."""
        real = self.root.resolve(posixpath.join("/", path))
        if real is None:
            raise Error(f"{path}: too many levels of symbolic links")
        self.dirs[real] = None if mode is None else (mode, 0, 0)

    def add_tree(self, path, keep=None):
        """Every file, symlink and directory under PATH, for which KEEP(path, is_dir) is true."""
        top = self.root.resolve(posixpath.join("/", path))
        if top is None:
            raise Error(f"{path}: too many levels of symbolic links")
        for directory, dirnames, filenames in os.walk(self.root.host(top)):
            inside = top + directory[len(self.root.host(top)) :]
            kept = []
            for name in sorted(dirnames):
                child = posixpath.join(inside, name)
                if keep is not None and not keep(child, True):
                    continue
                if os.path.islink(os.path.join(directory, name)):
                    self.add(child, required=False)
                else:
                    kept.append(name)
                    self.add_directory(child)
            dirnames[:] = kept
            for name in sorted(filenames):
                child = posixpath.join(inside, name)
                if keep is None or keep(child, False):
                    self.add_entry(child)

    def add_entry(self, path):
        """The file or symlink at PATH (whose directory has no symlinks), as it is, and what a
        symlink leads to; anything else is left out."""
        st = self.root.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            self.add(path, required=False)
        elif stat.S_ISREG(st.st_mode):
            if not left_out(path):
                self.files[path] = path
        else:
            self.warnings.append(f"pyslim: {path} is neither a file nor a symlink: left out")

    def had(self, path):
        return any(os.path.lexists(have + path) for have in self.haves)

    def elf_files(self, kind):
        """The gathered regular files that are ELF files of KIND, with the warnings of those that
        cannot be read."""
        found = []
        for path, source in sorted(self.files.items()):
            try:
                with open(self.root.host(source), "rb") as file:
                    if not elf.is_elf(file.read(4)):
                        continue
                parsed = elf.read(self.root.host(source))
            except OSError as error:
                raise Error(f"cannot read {source}: {error.strerror}") from None
            except elf.ElfError as error:
                self.warnings.append(f"pyslim: {source} is not a readable ELF file: {error}")
                continue
            if parsed is not None and parsed.kind == kind:
                found.append(path)
        return found

    def add_closure(self, loader, kind, more=()):
        """The libraries the gathered ELF files (and MORE) need, transitively, and the loader."""
        closure = loader.closure([*self.elf_files(kind), *more])
        missing = [
            f"{path} needs {name}, which is nowhere in the image (not on its RPATH or RUNPATH, "
            "in /etc/ld.so.cache or in the default directories)"
            for path, name in sorted(closure.unresolved)
        ]
        if missing:
            raise Error("\n".join(missing))
        for path, message in closure.broken:
            self.warnings.append(f"pyslim: {path} is not a readable ELF file: {message}")
        for path in sorted(closure.libraries | closure.interpreters):
            self.add(path)

    # Writing.

    def _dest(self, path):
        dest = os.path.normpath(self.out + path)
        if not path.startswith("/") or not dest.startswith(self.out + os.sep):
            raise Error(f"{path} would land outside {self.out}: refusing to write it")
        return dest

    def _mkdirs(self, path, last=None):
        """The directories of PATH in OUT, each created as in the root (LAST for PATH itself);
        one that is something else in OUT (a symlink copied there) is refused."""
        parts = [p for p in path.split("/") if p]
        here = ""
        for i, part in enumerate(parts):
            here += "/" + part
            dest = self._dest(here)
            try:
                st = os.lstat(dest)
            except FileNotFoundError:
                st = None
            if st is not None and not stat.S_ISDIR(st.st_mode):
                raise Error(f"{here} is not a directory in {self.out}: refusing to write {path}")
            meta = last if i == len(parts) - 1 and last else None
            if meta is None:
                try:
                    source = self.root.lstat(here)
                    meta = (stat.S_IMODE(source.st_mode), source.st_uid, source.st_gid)
                except OSError:
                    meta = (0o755, 0, 0)
            if st is None:
                os.mkdir(dest, 0o700)
                self._own(dest, meta)
            elif i == len(parts) - 1 and last:
                self._own(dest, meta)

    def _own(self, dest, meta, link=False):
        mode, uid, gid = meta
        # Only root can give a file away; the build runs as root, the tests may not.
        if os.geteuid() == 0:
            os.chown(dest, uid, gid, follow_symlinks=False)
        if not link:
            os.chmod(dest, mode)

    def _clear(self, dest, path):
        if os.path.lexists(dest):
            if os.path.isdir(dest) and not os.path.islink(dest):
                raise Error(f"{path} is a directory in {self.out} and a file in the image")
            os.unlink(dest)

    def write(self):
        """Writes the layer; returns (files, bytes) written."""
        os.makedirs(self.out, exist_ok=True)
        count = size = 0
        for path, meta in sorted(self.dirs.items()):
            if meta is None:
                st = self.root.lstat(path)
                meta = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            self._mkdirs(path, meta)
        for path, target in sorted(self.links.items()):
            if self.had(path):
                continue
            self._mkdirs(posixpath.dirname(path))
            dest = self._dest(path)
            self._clear(dest, path)
            os.symlink(target, dest)
            st = self.root.lstat(path)
            self._own(dest, (0, st.st_uid, st.st_gid), link=True)
            count += 1
        for path, source in sorted(self.files.items()):
            if self.had(path):
                continue
            self._mkdirs(posixpath.dirname(path))
            dest = self._dest(path)
            self._clear(dest, path)
            st = self.root.lstat(source)
            if not stat.S_ISREG(st.st_mode):
                raise Error(f"{source} is no longer a regular file")
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with open(self.root.host(source), "rb") as src, open(
                os.open(dest, flags, 0o600), "wb"
            ) as out:
                shutil.copyfileobj(src, out, 1 << 20)
            self._own(dest, (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid))
            os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))
            count += 1
            size += st.st_size
        for path, (data, mode, uid, gid) in sorted(self.generated.items()):
            self._mkdirs(posixpath.dirname(path))
            dest = self._dest(path)
            self._clear(dest, path)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            with open(os.open(dest, flags, 0o600), "wb") as out:
                out.write(data)
            self._own(dest, (mode, uid, gid))
            count += 1
            size += len(data)
        return count, size

    def records(self, dpkg):
        """Writes the dpkg records of the packages that own a gathered file or symlink; returns
        their names."""
        owned = {}
        owners = dpkg.owners()
        for path in sorted({*self.files, *self.links}):
            if self.had(path):
                continue
            # A symlink to a directory (/lib -> usr/lib) is the directory, for dpkg.
            real = self.root.resolve(path)
            try:
                if real is None or stat.S_ISDIR(self.root.lstat(real).st_mode):
                    continue
            except OSError:
                pass
            for package, arch in owners.get(elf.usr_path(path), ()):
                owned.setdefault(package, arch)
        written = []
        for package, arch in sorted(owned.items()):
            path = f"/var/lib/dpkg/status.d/{package}"
            if self.had(path):
                continue
            found = dpkg.record(package, arch)
            if found is None:
                self.warnings.append(f"pyslim: {package} owns files but has no dpkg record")
                continue
            self.generated[path] = (found[1].encode("utf-8", "surrogateescape"), 0o644, 0, 0)
            written.append(package)
        return written


def read_text(layer, path):
    """The text of a file of the root, and its stat; (None, None) without one."""
    real = layer.root.resolve(path)
    if real is None:
        return None, None
    try:
        with open(layer.root.host(real), encoding="utf-8", errors="surrogateescape") as file:
            return file.read(), os.fstat(file.fileno())
    except OSError:
        return None, None


def users(layer, user):
    """/etc/passwd and /etc/group with root's entries and USER's (NAME, UID, NAME:GROUP or
    UID:GID), and USER's home directory (None if it has none)."""
    passwd, passwd_stat = read_text(layer, "/etc/passwd")
    group, group_stat = read_text(layer, "/etc/group")
    if passwd is None or group is None:
        raise Error("the image has no /etc/passwd or /etc/group")
    name, _, group_name = (user or "").partition(":")
    entries = [line.split(":") for line in passwd.splitlines() if line.count(":") >= 6]
    kept, gids, home = [], {"0"}, None
    for fields in entries:
        is_user = bool(name) and name in (fields[0], fields[2])
        if fields[0] == "root" or is_user:
            kept.append(":".join(fields))
            gids.add(fields[3])
        if is_user and home is None:
            home = fields[5]
    if name and not name.isdigit() and not any(f[0] == name for f in entries):
        raise Error(f"the user {name} is not in the image's /etc/passwd")
    groups = []
    for line in group.splitlines():
        fields = line.split(":")
        if len(fields) >= 3 and (
            fields[0] == "root" or fields[2] in gids or (group_name and group_name in fields[:3:2])
        ):
            groups.append(line)
    for path, lines, st in (("/etc/passwd", kept, passwd_stat), ("/etc/group", groups, group_stat)):
        data = "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape")
        layer.generated[path] = (data, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
    return home


def interpreter_layer(layer, info, user, packages, dpkg):
    executable = info["executable"]
    real = layer.add(executable)
    if real is None:
        raise Error(f"the interpreter {executable} is not a file")
    major = info["version"].split(".")[0]
    names = {"python", f"python{major}", f"python{info['version']}"}
    for directory in {posixpath.dirname(executable), posixpath.dirname(real)}:
        for name in sorted(names):
            sibling = posixpath.join(directory, name)
            try:
                is_link = stat.S_ISLNK(layer.root.lstat(sibling).st_mode)
            except OSError:
                continue
            if is_link and layer.root.resolve(sibling) == real:
                layer.add(sibling)

    sites = set()
    for path in info["site"]:
        resolved = layer.root.resolve(path)
        if resolved and os.path.isdir(layer.root.host(resolved)):
            sites.add(resolved)
            layer.add_directory(resolved)
    tops = {layer.root.resolve(path) for path in info["stdlib"] if path}
    tops = {top for top in tops if top and os.path.isdir(layer.root.host(top))}

    def keep(path, is_dir):
        name = posixpath.basename(path)
        if is_dir:
            if path in sites or name in TEST_DIRECTORIES:
                return False
            parent = posixpath.dirname(path)
            return not (parent in tops and (name in STDLIB_LEFT_OUT or name.startswith("config-")))
        if name.endswith(".so"):
            return not name.split(".")[0].startswith(EXTENSIONS_LEFT_OUT)
        return True

    for top in sorted(tops):
        # A top inside another (lib-dynload) is walked with it, and again: the same files.
        layer.add_directory(top)
        layer.add_tree(top, keep)

    for path in USR_LINKS:
        try:
            if stat.S_ISLNK(layer.root.lstat(path).st_mode):
                layer.add(path)
        except OSError:
            pass

    # As regular files: a symlink into /usr/share/ca-certificates would need that too.
    for path in [CA_CERTIFICATES, os.environ.get("SSL_CERT_FILE")]:
        if not path:
            continue
        path = posixpath.join("/", path)
        source = layer.root.resolve(path)
        parent = layer.root.resolve(posixpath.dirname(path))
        try:
            is_file = stat.S_ISREG(layer.root.lstat(source).st_mode)
        except (OSError, TypeError):
            is_file = False
        if is_file and parent:
            layer.files[posixpath.join(parent, posixpath.basename(path))] = source
        elif path != CA_CERTIFICATES:
            layer.warnings.append(f"pyslim: SSL_CERT_FILE names {path}, which is not a file")

    for path in ("/etc/os-release", "/usr/lib/os-release", "/etc/debian_version"):
        layer.add(path, required=False)

    home = users(layer, user)
    if home and home != "/" and os.path.isdir(layer.root.host(layer.root.resolve(home) or "/")):
        layer.add_directory(home)
    layer.add_directory("/tmp", 0o1777)

    for package in packages:
        files = dpkg.files(package)
        if files is None:
            raise Error(f"the package {package} is not installed in the image")
        for path in files:
            if path.startswith(DOCUMENTATION):
                continue
            # The entry itself, not what it leads to: its directory may be a symlink (/lib).
            directory = layer.root.resolve(posixpath.dirname(path))
            try:
                mode = layer.root.lstat(posixpath.join(directory, posixpath.basename(path))).st_mode
            except (OSError, TypeError):
                continue
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                # A package may ship a symlink to what another one, not installed, provides.
                layer.add(path, required=False)


def distribution_dir(wheel, sites):
    """The installed .dist-info of a wheel's distribution, and its site directory."""
    name, version = (*os.path.basename(wheel).split("-"), "")[:2]
    wanted = common.normalize(name)
    found = []
    for directory in sites:
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            installed, _, installed_version = entry[: -len(".dist-info")].rpartition("-")
            if common.normalize(installed) == wanted:
                found.append((installed_version != version, directory, entry))
    if not found:
        raise Error(
            f"the distribution of {os.path.basename(wheel)} is not installed: no "
            f"{name}-*.dist-info in {', '.join(sites)}"
        )
    _, directory, entry = min(found)
    return directory, entry


def wheels_layer(layer, info, wheel_dirs):
    sites = []
    for path in info["site"]:
        resolved = layer.root.resolve(path)
        if resolved and resolved not in sites and os.path.isdir(layer.root.host(resolved)):
            sites.append(resolved)
    wheels = []
    for directory in wheel_dirs:
        try:
            names = sorted(os.listdir(directory))
        except OSError as error:
            raise Error(f"cannot list {directory}: {error.strerror}") from None
        wheels += [os.path.join(directory, n) for n in names if n.endswith(".whl")]
    for wheel in wheels:
        directory, entry = distribution_dir(wheel, [layer.root.host(s) for s in sites])
        site_dir = sites[[layer.root.host(s) for s in sites].index(directory)]
        info_dir = posixpath.join(site_dir, entry)
        layer.add_tree(info_dir)
        try:
            with open(layer.root.host(info_dir) + "/RECORD", newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
        except OSError as error:
            raise Error(f"cannot read {info_dir}/RECORD: {error.strerror}") from None
        for row in rows:
            if not row or not row[0]:
                continue
            path = posixpath.normpath(posixpath.join(site_dir, row[0]))
            layer.add(path, required=False)
            if path.endswith(".py"):
                stem = posixpath.basename(path)[:-3]
                cache = posixpath.join(posixpath.dirname(path), "__pycache__")
                pattern = glob.escape(layer.root.host(cache)) + "/" + glob.escape(stem) + ".*.pyc"
                for pyc in sorted(glob.glob(pattern)):
                    layer.add(posixpath.join(cache, os.path.basename(pyc)), required=False)
    return wheels


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Error(message)


def main(argv):
    parser = Parser(prog="minimal.py", add_help=False)
    parser.add_argument("--out", required=True)
    parser.add_argument("--layer", required=True, choices=["interpreter", "packages", "app"])
    parser.add_argument("--have", action="append", default=[])
    parser.add_argument("--user")
    parser.add_argument("--package", action="append", default=[])
    parser.add_argument("--wheels", action="append", default=[])
    parser.add_argument("--path", action="append", default=[])
    # The image's root, and JSON to replace what the running interpreter says of itself: for
    # the tests.
    parser.add_argument("--root", default="/", help=argparse.SUPPRESS)
    parser.add_argument("--python-info", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    info = python_info(args.python_info)
    layer = Layer(args.root, args.out, args.have)
    dpkg = elf.Dpkg(layer.root)
    library_path = os.environ.get("LD_LIBRARY_PATH", "").split(":") if args.root == "/" else ()
    loader = elf.Loader(layer.root, library_path=library_path)
    executable = layer.root.resolve(info["executable"])
    try:
        interpreter = elf.read(layer.root.host(executable)) if executable else None
    except (OSError, elf.ElfError) as error:
        raise Error(f"cannot read the interpreter {info['executable']}: {error}") from None
    if interpreter is None:
        raise Error(f"the interpreter {info['executable']} is not an ELF file")
    kind = interpreter.kind

    more = []
    if args.layer == "interpreter":
        interpreter_layer(layer, info, args.user, args.package, dpkg)
        # glibc loads libgcc_s when a thread is cancelled (pthread_cancel, pthread_exit).
        gcc_s = loader.search("libgcc_s.so.1", kind)
        if gcc_s:
            more.append(gcc_s)
    else:
        wheels_layer(layer, info, args.wheels)
        for path in args.path if args.layer == "app" else ():
            if not path.startswith("/"):
                raise Error(f"--path {path} is not an absolute path")
            real = layer.root.resolve(path)
            try:
                is_dir = stat.S_ISDIR(layer.root.lstat(real).st_mode)
            except (OSError, TypeError):
                raise Error(f"--path {path} is not in the image") from None
            if is_dir:
                layer.add(path, required=False)
                layer.add_directory(path)
                layer.add_tree(path)
            else:
                layer.add(path)
    layer.add_closure(loader, kind, more)
    for path in more:
        layer.add(path)

    recorded = layer.records(dpkg)
    count, size = layer.write()
    for line in layer.warnings:
        print(line, file=sys.stderr)
    print(
        f"pyslim: minimal image, {args.layer} layer: {count} files, {size} bytes, "
        f"{len(recorded)} packages recorded ({' '.join(recorded) or 'none'})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    common.run(main, "minimal.py", Error, 1)
