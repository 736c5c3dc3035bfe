"""What an ELF file needs, and where glibc's loader would find it in a root filesystem.

Imported by libraries.py, minimal.py and smoke.py (the step puts this file beside them), never
run itself. Three parts:

- `parse` reads what the dynamic loader reads of an ELF file: its class, byte order and machine,
  its loader (PT_INTERP), and from its dynamic section the libraries it needs (DT_NEEDED), where
  it says to look for them (DT_RPATH, DT_RUNPATH) and its own name (DT_SONAME). Only with
  `struct`: the image may have neither binutils nor any package beyond Python's standard library.
  Every length and count read from the file is checked against the file's size before anything
  is read or looped over, so a truncated or hostile file raises ElfError instead of reading
  gigabytes or looping forever.

- `Loader` looks up a needed name the way glibc's ld.so does, in a root filesystem that is not
  necessarily the one this runs in: DT_RPATH (only without DT_RUNPATH), LD_LIBRARY_PATH,
  DT_RUNPATH, the root's /etc/ld.so.cache, then the default directories. Symlinks are followed
  inside the root (an absolute symlink means the root's path, not this machine's), and a
  candidate counts only when it is an ELF file of the needing object's class and machine, as
  ld.so skips the others. Objects may be "virtual": the members of a wheel, not installed yet,
  at the paths they will be installed to.

- `Dpkg` answers which Debian package owns a file, and that package's record, from a root's
  /var/lib/dpkg. Here too because all three scripts ask it, and each step mounts only the
  scripts it runs and this one.

The loader's choices are glibc's (elf/dl-load.c, elf/dl-cache.c): ld.so does not read
/etc/ld.so.conf, only the cache ldconfig made from it, and a cache entry is taken only when its
flags say it is of the needing object's kind, so a 32-bit library of the same name never stands
in for a 64-bit one.
"""

import contextlib
import io
import os
import posixpath
import re
import stat
import struct

MAGIC = b"\x7fELF"

ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
PN_XNUM = 0xFFFF

EM_386, EM_ARM, EM_PPC64, EM_S390, EM_X86_64, EM_AARCH64, EM_RISCV = 3, 40, 21, 22, 62, 183, 243

# (class, machine) -> the Debian multiarch triplet, and what $PLATFORM expands to.
TRIPLETS = {
    (64, EM_X86_64): ("x86_64-linux-gnu", "x86_64"),
    (64, EM_AARCH64): ("aarch64-linux-gnu", "aarch64"),
    (32, EM_386): ("i386-linux-gnu", "i686"),
    (32, EM_ARM): ("arm-linux-gnueabihf", "v7l"),
    (64, EM_PPC64): ("powerpc64le-linux-gnu", "ppc64le"),
    (64, EM_S390): ("s390x-linux-gnu", "s390x"),
    (64, EM_RISCV): ("riscv64-linux-gnu", "riscv64"),
}

# The flags of an ld.so.cache entry for a library ld.so of this class and machine may load
# (glibc's sysdeps/generic/ldconfig.h): the low byte says "ELF, glibc", the high byte the ABI.
FLAG_ELF_LIBC6 = 0x0003
CACHE_FLAGS = {
    (64, EM_X86_64): {0x0303},
    (64, EM_AARCH64): {0x0A03},
    (32, EM_386): {0x0003},
    (32, EM_ARM): {0x0903, 0x0B03},
    (64, EM_PPC64): {0x0503},
    (64, EM_S390): {0x0403},
    (64, EM_RISCV): {0x1003, 0x0F03},
    (32, EM_X86_64): {0x0803},
}

# ld.so's dynamic string tokens: $NAME, or ${NAME}. $ORIGINAL is no token: a bare name ends at
# a character no name has.
DST = re.compile(r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))")

# Symlinks ld.so follows, and this too, before it gives up (the kernel's limit).
MAX_SYMLINKS = 40

# No path, name or search list the loader reads is longer than this.
MAX_STRING = 1 << 16


class ElfError(Exception):
    """An ELF file that cannot be read: truncated, or with sizes and offsets that do not fit."""


class Elf:
    """What the dynamic loader reads of one ELF file."""

    __slots__ = (
        "big_endian",
        "bits",
        "interp",
        "machine",
        "needed",
        "rpath",
        "runpath",
        "soname",
        "type",
    )

    def __init__(self, bits, big_endian, machine, type_):
        self.bits = bits
        self.big_endian = big_endian
        self.machine = machine
        self.type = type_
        self.interp = None
        self.needed = []
        self.rpath = []
        self.runpath = []
        self.soname = None

    @property
    def kind(self):
        """(class, machine): what a library must share with the object that needs it."""
        return (self.bits, self.machine)

    def __repr__(self):
        return (
            f"Elf(bits={self.bits}, machine={self.machine}, interp={self.interp!r}, "
            f"needed={self.needed!r}, rpath={self.rpath!r}, runpath={self.runpath!r}, "
            f"soname={self.soname!r})"
        )


class _Reader:
    """Reads of a file at offsets, each checked against the file's size first."""

    def __init__(self, file, size):
        self.file = file
        self.size = size

    def read(self, offset, length, what):
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ElfError(f"{what} lies outside the file ({offset}+{length} > {self.size})")
        self.file.seek(offset)
        data = self.file.read(length)
        if len(data) != length:
            raise ElfError(f"{what}: the file ends early")
        return data


def is_elf(head):
    return bytes(head[:4]) == MAGIC


def parse(source, size=None):
    """The Elf of SOURCE (bytes, or a seekable binary file of SIZE bytes: a zip member open for
    reading, say), None when it is not an ELF file. Raises ElfError when it is one that
    cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
        source = io.BytesIO(source)
    elif size is None:
        size = source.seek(0, io.SEEK_END)
    reader = _Reader(source, size)
    if not is_elf(reader.read(0, min(size, 4), "the ELF magic")):
        return None
    ident = reader.read(0, 16, "the ELF identification")
    bits = {1: 32, 2: 64}.get(ident[4])
    order = {1: "<", 2: ">"}.get(ident[5])
    if bits is None or order is None:
        raise ElfError(f"unknown ELF class {ident[4]} or byte order {ident[5]}")
    if bits == 64:
        header = struct.Struct(order + "HHIQQQIHHHHHH")
        phdr = struct.Struct(order + "IIQQQQQQ")
        shdr = struct.Struct(order + "IIQQQQIIQQ")
        dyn = struct.Struct(order + "qQ")
    else:
        header = struct.Struct(order + "HHIIIIIHHHHHH")
        phdr = struct.Struct(order + "IIIIIIII")
        shdr = struct.Struct(order + "IIIIIIIIII")
        dyn = struct.Struct(order + "iI")
    (type_, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, _, _) = header.unpack(
        reader.read(16, header.size, "the ELF header")
    )
    elf = Elf(bits, order == ">", machine, type_)
    if phnum == PN_XNUM:
        # More program headers than fit in e_phnum: the count is in section 0's sh_info.
        if shentsize < shdr.size:
            raise ElfError(f"section headers of {shentsize} bytes")
        phnum = shdr.unpack(reader.read(shoff, shdr.size, "section header 0"))[7]
    if phnum == 0:
        return elf
    if phentsize < phdr.size:
        raise ElfError(f"program headers of {phentsize} bytes")
    if phnum * phentsize > size:
        raise ElfError(f"{phnum} program headers do not fit in {size} bytes")
    table = reader.read(phoff, phnum * phentsize, "the program headers")
    loads, dynamic, interp = [], None, None
    for i in range(phnum):
        fields = phdr.unpack_from(table, i * phentsize)
        if bits == 64:
            p_type, _, offset, vaddr, _, filesz, _, _ = fields
        else:
            p_type, offset, vaddr, _, filesz, _, _, _ = fields
        if p_type == PT_LOAD:
            loads.append((vaddr, filesz, offset))
        elif p_type == PT_DYNAMIC and dynamic is None:
            dynamic = (offset, filesz)
        elif p_type == PT_INTERP and interp is None:
            interp = (offset, filesz)
    if interp is not None:
        offset, filesz = interp
        text = reader.read(offset, min(filesz, MAX_STRING), "PT_INTERP")
        elf.interp = _decode(text.split(b"\0", 1)[0])
    if dynamic is None:
        return elf

    offset, filesz = dynamic
    count = min(filesz, size) // dyn.size
    entries = reader.read(offset, count * dyn.size, "the dynamic section")
    strtab = strsz = None
    wanted = []  # (tag, string offset)
    for i in range(count):
        tag, value = dyn.unpack_from(entries, i * dyn.size)
        if tag == DT_NULL:
            break
        if tag == DT_STRTAB:
            strtab = value
        elif tag == DT_STRSZ:
            strsz = value
        elif tag in (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH):
            wanted.append((tag, value))
    if not wanted:
        return elf
    if strtab is None:
        raise ElfError("a dynamic section with names and no string table")
    # DT_STRTAB is an address in memory: the PT_LOAD segment that holds it says where it is
    # in the file.
    base = next(
        (off + strtab - vaddr for vaddr, filesz, off in loads if vaddr <= strtab < vaddr + filesz),
        None,
    )
    if base is None:
        raise ElfError(f"the string table's address {strtab:#x} is in no loaded segment")
    limit = size - base if strsz is None else min(strsz, size - base)
    strings = _strings(reader, base, limit, sorted({value for _, value in wanted}))
    for tag, value in wanted:
        text = strings[value]
        if tag == DT_NEEDED:
            elf.needed.append(text)
        elif tag == DT_SONAME:
            elf.soname = text
        elif tag == DT_RPATH:
            elf.rpath.extend(text.split(":"))
        else:
            elf.runpath.extend(text.split(":"))
    return elf


def _strings(reader, base, limit, offsets):
    """The NUL-terminated strings at OFFSETS (ascending) of a string table LIMIT bytes long at
    BASE. Read in ascending order: a zip member seeks forward cheaply, backward by inflating
    again from its start."""
    found = {}
    for offset in offsets:
        if offset >= limit:
            raise ElfError(f"a string at {offset}, past the string table's {limit} bytes")
        end = min(limit, offset + MAX_STRING)
        chunks, at = [], offset
        while at < end:
            chunk = reader.read(base + at, min(256, end - at), "a string")
            nul = chunk.find(b"\0")
            if nul >= 0:
                chunks.append(chunk[:nul])
                break
            chunks.append(chunk)
            at += len(chunk)
        else:
            raise ElfError(f"the string at {offset} has no end")
        found[offset] = _decode(b"".join(chunks))
    return found


def _decode(raw):
    return raw.decode("utf-8", "surrogateescape")


def read(path):
    """The Elf of the file at PATH, None when it is not an ELF file (or not a regular file)."""
    # Checked before opening: opening a FIFO would wait for a writer.
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None
    with open(path, "rb") as file:
        return parse(file, os.fstat(file.fileno()).st_size)


class Root:
    """A directory seen as a root filesystem: paths are absolute inside it, and its symlinks
    resolve inside it, as they would for a process chrooted there."""

    def __init__(self, path="/"):
        path = os.path.abspath(path)
        self.path = path
        self._prefix = "" if path == "/" else path
        self._walks = {}

    def host(self, path):
        """Where PATH of this root is on this machine."""
        return self._prefix + path

    def walk(self, path):
        """PATH with every symlink resolved inside the root: (the resolved path, the symlinks
        passed on the way as (path, target) pairs, each named by its resolved parent). A part
        that does not exist is kept as it is, with what follows it. None for a symlink loop."""
        found = self._walks.get(path)
        if found is None and path not in self._walks:
            found = self._walk(path)
            self._walks[path] = found
        return found

    def _walk(self, path):
        todo = [part for part in reversed(path.split("/")) if part]
        resolved, links, followed = "/", [], 0
        missing = False
        while todo:
            part = todo.pop()
            if part == ".":
                continue
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            here = posixpath.join(resolved, part)
            if missing:
                resolved = here
                continue
            try:
                st = os.lstat(self.host(here))
            except OSError:
                missing = True
                resolved = here
                continue
            if not stat.S_ISLNK(st.st_mode):
                resolved = here
                continue
            followed += 1
            if followed > MAX_SYMLINKS:
                return None
            target = os.readlink(self.host(here))
            links.append((here, target))
            if target.startswith("/"):
                resolved = "/"
            todo.extend(part for part in reversed(target.split("/")) if part)
        return resolved, links

    def resolve(self, path):
        """PATH with its symlinks resolved inside the root, None for a symlink loop."""
        walked = self.walk(path)
        return None if walked is None else walked[0]

    def lstat(self, path):
        return os.lstat(self.host(path))


def expand(text, origin, kind):
    """TEXT with ld.so's dynamic string tokens replaced: $ORIGIN is ORIGIN, the directory of the
    object that names it; $LIB and $PLATFORM are what Debian's glibc makes of them. None when
    it names $ORIGIN with no origin to give it."""
    triplet, platform = TRIPLETS.get(kind, ("", ""))
    values = {"ORIGIN": origin, "LIB": f"lib/{triplet}" if triplet else "lib", "PLATFORM": platform}
    if origin is None and "ORIGIN" in {a or b for a, b in DST.findall(text)}:
        return None
    return DST.sub(lambda match: values[match.group(1) or match.group(2)], text)


def parse_cache(data):
    """The entries of an ld.so.cache file, as (name, flags, path, hwcap) in the file's order.
    Reads the format of glibc 2.32 and later ("glibc-ld.so.cache1.1"), and the old one
    ("ld.so-1.7.0"), which ldconfig's compat format follows with the new one. In this machine's
    byte order, as ldconfig writes it: the scripts run on the image's own machine."""
    data = bytes(data)
    new = b"glibc-ld.so.cache1.1"
    if data.startswith(b"ld.so-1.7.0"):
        if len(data) < 16:
            raise ElfError("an ld.so.cache that ends in its header")
        (count,) = struct.unpack_from("=I", data, 12)
        old_end = 16 + 12 * count
        if old_end > len(data):
            raise ElfError(f"an ld.so.cache of {count} old entries that ends early")
        # The new format follows, 8-byte aligned; its offsets count from its own start. Without
        # it, the old entries' offsets count from their end.
        start = (old_end + 7) & ~7
        if data.startswith(new, start):
            return _parse_new(data, start)
        entries = []
        for i in range(count):
            flags, key, value = struct.unpack_from("=iII", data, 16 + 12 * i)
            entries.append(
                (_cstring(data, old_end + key), flags, _cstring(data, old_end + value), 0)
            )
        return entries
    if data.startswith(new):
        return _parse_new(data, 0)
    raise ElfError("not an ld.so.cache file")


def _parse_new(data, start):
    header = struct.Struct("=20sIIB3sI12x")
    if start + header.size > len(data):
        raise ElfError("an ld.so.cache that ends in its header")
    _, count, _, _, _, _ = header.unpack_from(data, start)
    entry = struct.Struct("=iIIIQ")
    if start + header.size + count * entry.size > len(data):
        raise ElfError(f"an ld.so.cache of {count} entries that ends early")
    entries = []
    for i in range(count):
        flags, key, value, _, hwcap = entry.unpack_from(data, start + header.size + i * entry.size)
        entries.append((_cstring(data, start + key), flags, _cstring(data, start + value), hwcap))
    return entries


def _cstring(data, offset):
    end = data.find(b"\0", offset, offset + MAX_STRING)
    if offset >= len(data) or end < 0:
        raise ElfError(f"an ld.so.cache string at {offset} that does not end")
    return _decode(data[offset:end])


def default_dirs(kind):
    """The directories ld.so searches last, Debian's multiarch ones first."""
    triplet, _ = TRIPLETS.get(kind, (None, None))
    dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}"] if triplet else []
    if kind[0] == 64:
        dirs += ["/lib64", "/usr/lib64"]
    return [*dirs, "/lib", "/usr/lib"]


class Closure:
    """Every object a set of ELF objects loads, transitively."""

    def __init__(self):
        # path -> Elf of every object reached: the ones asked about, then their libraries.
        self.objects = {}
        # path -> [(needed name, the path it resolved to, or None)]
        self.needs = {}
        self.resolved = {}  # needed name -> path (the first object found for it)
        self.unresolved = []  # (path of the needing object, needed name)
        self.interpreters = set()  # PT_INTERP paths, as the objects name them
        self.broken = []  # (path, message) of objects that could not be read

    @property
    def libraries(self):
        """The paths of the libraries found, whatever name they were needed by."""
        return {path for needs in self.needs.values() for _, path in needs if path}

    def reaching(self, start):
        """The objects START loads, itself included."""
        seen, todo = {start}, [start]
        while todo:
            for _, path in self.needs.get(todo.pop(), ()):
                if path and path not in seen:
                    seen.add(path)
                    todo.append(path)
        return seen


class Loader:
    """glibc's ld.so, searching a root filesystem (see the module's docstring). VIRTUAL maps
    install paths to the Elf of objects not in the root: they are found first."""

    def __init__(self, root="/", virtual=None, library_path=()):
        self.root = root if isinstance(root, Root) else Root(root)
        self.library_path = [d for d in library_path if d]
        self.virtual = {}
        for path, elf in (virtual or {}).items():
            self.virtual[self._canonical(path)] = elf
        self._objects = {}
        self._cache = None

    def _canonical(self, path):
        resolved = self.root.resolve(posixpath.join("/", path))
        return resolved if resolved is not None else path

    def cache(self):
        """The entries of the root's /etc/ld.so.cache: [] without one."""
        if self._cache is None:
            self._cache = []
            path = self.root.resolve("/etc/ld.so.cache")
            # Without one, or with one it cannot read, ld.so searches the default directories.
            with contextlib.suppress(OSError, ElfError):
                if path is not None:
                    with open(self.root.host(path), "rb") as file:
                        self._cache = parse_cache(file.read(64 << 20))
        return self._cache

    def object(self, path):
        """The Elf at PATH in the root, the virtual objects first; None when there is none, or
        it is not an ELF file. Raises ElfError for one that cannot be read."""
        canonical = self._canonical(path)
        if canonical in self.virtual:
            return self.virtual[canonical]
        if canonical not in self._objects:
            try:
                self._objects[canonical] = read(self.root.host(canonical))
            except ElfError as error:
                self._objects[canonical] = error
            except OSError:
                self._objects[canonical] = None
        found = self._objects[canonical]
        if isinstance(found, ElfError):
            raise found
        return found

    def _fits(self, path, kind):
        try:
            elf = self.object(path)
        except ElfError:
            return False
        return elf is not None and elf.kind == kind

    def search(self, name, kind, rpath=(), runpath=(), origin=None):
        """Where ld.so finds NAME for an object of KIND ((class, machine)) with these search
        paths and in directory ORIGIN: a path in the root, or None."""
        if "/" in name:
            path = expand(name, origin, kind)
            if path is None:
                return None
            # A relative path is the process's working directory's: taken as the root's.
            path = self._in(posixpath.dirname(posixpath.join("/", path)), posixpath.basename(path))
            return path if path and self._fits(path, kind) else None
        dirs = []
        if not runpath:
            dirs += rpath
        dirs += self.library_path
        dirs += runpath
        for directory in dirs:
            directory = expand(directory, origin, kind) if directory else None
            if not directory or not directory.startswith("/"):
                # An empty entry means the process's working directory: not known here.
                continue
            path = self._in(directory, name)
            if path and self._fits(path, kind):
                return path
        flags = CACHE_FLAGS.get(kind)
        entries = [
            (hwcap != 0, path)
            for key, entry_flags, path, hwcap in self.cache()
            if key == name and (flags is None or entry_flags in flags)
        ]
        # Entries for hardware-capability subdirectories only if no plain one fits.
        for _, path in sorted(entries, key=lambda entry: entry[0]):
            if self._fits(path, kind):
                return path
        for directory in default_dirs(kind):
            path = posixpath.join(directory, name)
            if self._fits(path, kind):
                return path
        return None

    def _in(self, directory, name):
        """NAME in DIRECTORY, the directory's symlinks and `..` resolved inside the root (the
        name may be a symlink: ld.so opens it by this path). None for a symlink loop."""
        resolved = self.root.resolve(directory)
        return None if resolved is None else posixpath.join(resolved, name)

    def find(self, name, path, elf):
        """Where ld.so finds NAME, needed by ELF installed at PATH."""
        return self.search(name, elf.kind, elf.rpath, elf.runpath, posixpath.dirname(path))

    def closure(self, paths):
        """The Closure of the objects at PATHS (in the root, or virtual). An object that is not
        an ELF file is left out."""
        found = Closure()
        todo = sorted(set(paths), reverse=True)
        while todo:
            path = todo.pop()
            if path in found.objects:
                continue
            try:
                elf = self.object(path)
            except ElfError as error:
                found.broken.append((path, str(error)))
                continue
            if elf is None:
                continue
            found.objects[path] = elf
            if elf.interp:
                found.interpreters.add(elf.interp)
            needs = found.needs[path] = []
            for name in elf.needed:
                library = self.find(name, path, elf)
                needs.append((name, library))
                if library is None:
                    continue
                found.resolved.setdefault(name, library)
                if library not in found.objects:
                    todo.append(library)
        # ld.so takes a name it cannot find on the search path from an object already loaded
        # under that name (DT_SONAME): a library the program loaded before, through another
        # object's search path (a wheel's, or by ctypes with a full path).
        loaded = {}
        for path, elf in sorted(found.objects.items()):
            if elf.soname:
                loaded.setdefault(elf.soname, path)
        for path, needs in sorted(found.needs.items()):
            for i, (name, library) in enumerate(needs):
                if library is None and name in loaded and loaded[name] != path:
                    needs[i] = (name, loaded[name])
                    found.resolved.setdefault(name, loaded[name])
                elif library is None:
                    found.unresolved.append((path, name))
        return found


# Merged /usr: these are symlinks into /usr, and dpkg may list a file under either name.
USR_ALIASES = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def usr_path(path):
    """PATH under the name merged /usr gives it: /lib/x is /usr/lib/x."""
    for alias in USR_ALIASES:
        if path == alias or path.startswith(alias + "/"):
            return "/usr" + path
    return path


class Dpkg:
    """A root filesystem's dpkg database: which package owns a file, and each package's record
    in /var/lib/dpkg/status. Read on first use."""

    def __init__(self, root="/"):
        self.root = root if isinstance(root, Root) else Root(root)
        self._owners = None
        self._status = None

    def _info(self):
        return self.root.host(self.root.resolve("/var/lib/dpkg/info") or "/var/lib/dpkg/info")

    def lists(self):
        """{(package, architecture or None): the host path of its .list file}."""
        try:
            names = sorted(os.listdir(self._info()))
        except OSError:
            return {}
        found = {}
        for name in names:
            if name.endswith(".list"):
                package, _, arch = name[: -len(".list")].partition(":")
                found[(package, arch or None)] = os.path.join(self._info(), name)
        return found

    def files(self, package, arch=None):
        """The paths PACKAGE's .list names (that of ARCH, or of any architecture), None when the
        package is not installed."""
        for (name, listed_arch), path in self.lists().items():
            if name == package and arch in (None, listed_arch):
                with open(path, encoding="utf-8", errors="surrogateescape") as file:
                    return [line.rstrip("\n") for line in file if line.startswith("/")]
        return None

    def owners(self):
        """{path, under its merged-/usr name: [(package, architecture)]}."""
        if self._owners is None:
            self._owners = {}
            for key, path in self.lists().items():
                with open(path, encoding="utf-8", errors="surrogateescape") as file:
                    for line in file:
                        line = line.rstrip("\n")
                        if line.startswith("/"):
                            self._owners.setdefault(usr_path(line), []).append(key)
        return self._owners

    def owner(self, path):
        """The (package, architecture, path as dpkg lists it) that owns PATH of the root, or
        the symlinks on the way to it, or the file they lead to. None when no package does."""
        walked = self.root.walk(path)
        candidates = [path]
        if walked is not None:
            candidates += [link for link, _ in walked[1]] + [walked[0]]
        owners = self.owners()
        for candidate in candidates:
            for package, arch in owners.get(usr_path(candidate), ()):
                listed = self._listed(package, arch, candidate)
                return package, arch, listed
        return None

    def _listed(self, package, arch, path):
        wanted = usr_path(path)
        for line in self.files(package, arch) or ():
            if usr_path(line) == wanted:
                return line
        return path

    def status(self):
        """{(package, architecture): (the stanza's fields, its text as in the file)}."""
        if self._status is None:
            self._status = {}
            host = self.root.host(self.root.resolve("/var/lib/dpkg/status") or "/")
            try:
                with open(host, encoding="utf-8", errors="surrogateescape") as file:
                    text = file.read()
            except OSError:
                return self._status
            for stanza in text.split("\n\n"):
                stanza = stanza.strip("\n")
                if not stanza:
                    continue
                fields, name = {}, None
                for line in stanza.split("\n"):
                    if line[:1] in (" ", "\t"):
                        if name:
                            fields[name] += "\n" + line
                        continue
                    name, _, value = line.partition(":")
                    fields[name] = value.strip()
                key = (fields.get("Package"), fields.get("Architecture"))
                self._status[key] = (fields, stanza + "\n")
        return self._status

    def record(self, package, arch=None):
        """(fields, text) of PACKAGE's stanza in the status file, that of ARCH when given (or
        the installed one), None without one."""
        entries = self.status()
        if arch and (package, arch) in entries:
            return entries[(package, arch)]
        matches = [entry for (name, _), entry in sorted(entries.items()) if name == package]
        installed = [m for m in matches if m[0].get("Status", "").endswith(" installed")]
        return (installed or matches or [None])[0]

    def version(self, package, arch=None):
        found = self.record(package, arch)
        return None if found is None else found[0].get("Version")
