"""elf.py against this machine's own ELF files and ld.so.cache, and against libraries gcc builds
here, in root filesystems laid out in tmp_path."""

import contextlib
import os
import random
import re
import struct
import subprocess
import sys
import time

import pytest

import elf
from conftest import gcc

TRIPLET = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
LIBDIR = f"/usr/lib/{TRIPLET}"
KIND = elf.read(os.path.realpath(sys.executable)).kind
# Another machine of the same class, for a library ld.so must pass over.
OTHER_MACHINE = elf.EM_AARCH64 if KIND[1] != elf.EM_AARCH64 else elf.EM_X86_64


def readelf_dynamic(path):
    """What binutils says of PATH's dynamic section: {tag: [values]}."""
    out = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True).stdout
    found = {}
    for tag, value in re.findall(r"\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+[^\[]*\[(.*)\]", out):
        found.setdefault(tag, []).append(value)
    return found


def host_python():
    """Debian's python3.11, the one the brief of these tests names; else this interpreter."""
    for path in ("/usr/bin/python3.11", os.path.realpath(sys.executable)):
        if os.path.exists(path):
            return path
    pytest.fail("no interpreter to read")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A library with a SONAME, and extensions that need it through RPATH and RUNPATH."""
    d = tmp_path_factory.mktemp("built")
    lib = gcc(
        d / "x.libs" / "libpyslimtest.so.1",
        "int pyslim_test(void) { return 42; }\n",
        "-shared",
        "-Wl,-soname,libpyslimtest.so.1",
    )
    use = "int pyslim_test(void);\nint call(void) { return pyslim_test(); }\n"
    rpath = gcc(
        d / "pkg" / "rpath.so",
        use,
        "-shared",
        # libc too, though nothing here calls it: where gcc drops unused libraries by default.
        "-Wl,--no-as-needed",
        str(lib),
        "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../x.libs:/opt/pyslim",
    )
    runpath = gcc(
        d / "pkg" / "runpath.so", use, "-shared", str(lib), "-Wl,--enable-new-dtags,-rpath,$LIB"
    )
    return {"lib": lib, "rpath": rpath, "runpath": runpath}


def test_reads_the_host_python_and_libc_as_binutils_does():
    python = host_python()
    found = elf.read(python)
    assert found.kind == KIND
    assert found.needed == readelf_dynamic(python)["NEEDED"]
    assert "libc.so.6" in found.needed
    interp = subprocess.run(["readelf", "-lW", python], capture_output=True, text=True).stdout
    assert f"[Requesting program interpreter: {found.interp}]" in interp
    libc = elf.Loader("/").search("libc.so.6", found.kind)
    parsed = elf.read(libc)
    assert parsed.soname == "libc.so.6"
    assert parsed.needed == readelf_dynamic(libc).get("NEEDED", [])


def test_reads_needed_soname_rpath_and_runpath(built):
    lib = elf.read(built["lib"])
    assert (lib.soname, lib.needed, lib.rpath, lib.runpath) == ("libpyslimtest.so.1", [], [], [])
    rpath = elf.read(built["rpath"])
    assert "libpyslimtest.so.1" in rpath.needed
    assert rpath.needed == readelf_dynamic(built["rpath"])["NEEDED"]
    assert (rpath.rpath, rpath.runpath) == (["$ORIGIN/../x.libs", "/opt/pyslim"], [])
    runpath = elf.read(built["runpath"])
    assert (runpath.rpath, runpath.runpath) == ([], ["$LIB"])
    # From bytes as from a file.
    assert repr(elf.parse(built["rpath"].read_bytes())) == repr(rpath)


def test_what_is_not_elf_is_none_and_a_broken_elf_raises(built):
    assert elf.parse(b"") is None
    assert elf.parse(b"#!/bin/sh\necho hello\n") is None
    assert elf.parse(os.urandom(4096).replace(b"\x7fELF", b"xELF")) is None
    data = built["rpath"].read_bytes()
    started = time.monotonic()
    # Cut anywhere, or with bytes changed anywhere, the file reads or raises ElfError: nothing
    # else, and never slowly.
    damaged = [data[:end] for end in [*range(0, 256, 3), *range(256, len(data), 97)]]
    chance = random.Random(1)
    for _ in range(300):
        mutant = bytearray(data)
        for _ in range(8):
            mutant[chance.randrange(len(mutant))] = chance.randrange(256)
        damaged.append(bytes(mutant))
    for each in damaged:
        with contextlib.suppress(elf.ElfError):
            elf.parse(each)
    with pytest.raises(elf.ElfError):
        elf.parse(data[:100])
    with pytest.raises(elf.ElfError):
        elf.parse(b"\x7fELF\x09")
    assert time.monotonic() - started < 10


def test_sizes_beyond_the_file_raise_without_reading_them(built):
    data = bytearray(built["rpath"].read_bytes())
    # 64-bit little-endian header: e_phoff at 32, e_phentsize at 54, e_phnum at 56.
    hostile = bytearray(data)
    struct.pack_into("<Q", hostile, 32, 1 << 62)
    with pytest.raises(elf.ElfError, match="outside the file"):
        elf.parse(bytes(hostile))
    hostile = bytearray(data)
    struct.pack_into("<H", hostile, 56, 0xFFFE)
    with pytest.raises(elf.ElfError, match="do not fit"):
        elf.parse(bytes(hostile))


def ldconfig_p(*args):
    """(name, path) of each library `ldconfig -p` lists."""
    out = subprocess.run(["ldconfig", "-p", *args], capture_output=True, text=True).stdout
    return set(re.findall(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", out, re.MULTILINE))


def test_the_ld_so_cache_reads_as_ldconfig_prints_it():
    with open("/etc/ld.so.cache", "rb") as file:
        entries = elf.parse_cache(file.read())
    listed = ldconfig_p()
    assert len(entries) == len(listed)
    assert {(name, path) for name, _, path, _ in entries} == {(n, p) for n, _, p in listed}
    loader = elf.Loader("/")
    for name in ("libc.so.6", "libm.so.6", "libz.so.1"):
        found = loader.search(name, KIND)
        assert found in {p for n, _, p in listed if n == name}, name
        assert elf.read(found).kind == KIND


@pytest.mark.parametrize("form", ["old", "compat"])
def test_the_old_cache_formats_read_as_the_new_one(tmp_path, built, form):
    conf = tmp_path / "ld.so.conf"
    conf.write_text(f"{built['lib'].parent}\n")
    found = {}
    for each in ("new", form):
        cache = tmp_path / f"{each}.cache"
        subprocess.run(["ldconfig", "-X", "-c", each, "-C", cache, "-f", conf], check=True)
        found[each] = {(name, path) for name, _, path, _ in elf.parse_cache(cache.read_bytes())}
    assert ("libpyslimtest.so.1", str(built["lib"])) in found["new"]
    assert found[form] == found["new"]


def fake_library(path, soname, machine=None):
    """A library of this machine's class with nothing in it (or claiming another MACHINE)."""
    gcc(path, "int nothing;\n", "-shared", "-nostdlib", f"-Wl,-soname,{soname}")
    if machine is not None:
        data = bytearray(path.read_bytes())
        struct.pack_into("<H", data, 18, machine)
        path.write_bytes(bytes(data))
    return path


def test_origin_resolves_into_a_sibling_wheel_of_the_virtual_tree(tmp_path, built):
    root = tmp_path / "root"
    (root / "usr/lib" / TRIPLET).mkdir(parents=True)
    # Merged /usr with an absolute link: /lib is the root's /usr/lib, never this machine's.
    (root / "lib").symlink_to("/usr/lib")
    fake_library(root / "usr/lib" / TRIPLET / "libc.so.6", "libc.so.6")
    site = "/usr/local/lib/python3.11/site-packages"
    extension = elf.read(built["rpath"])
    bundled = elf.read(built["lib"])
    loader = elf.Loader(
        root,
        virtual={f"{site}/pkg/rpath.so": extension, f"{site}/x.libs/libpyslimtest.so.1": bundled},
    )
    closure = loader.closure([f"{site}/pkg/rpath.so"])
    assert closure.resolved["libpyslimtest.so.1"] == f"{site}/x.libs/libpyslimtest.so.1"
    # The extension needs libc too (gcc links it): found in the root's default directory, by
    # its name under the /lib link.
    assert closure.resolved["libc.so.6"] == f"/lib/{TRIPLET}/libc.so.6"
    assert closure.unresolved == []

    (root / "usr/lib" / TRIPLET / "libc.so.6").unlink()
    closure = elf.Loader(root, virtual=loader.virtual).closure([f"{site}/pkg/rpath.so"])
    assert closure.unresolved == [(f"{site}/pkg/rpath.so", "libc.so.6")]


def test_symlinks_resolve_inside_the_root(tmp_path):
    root = tmp_path / "root"
    libdir = root / "usr/lib" / TRIPLET
    libdir.mkdir(parents=True)
    # Both name files this machine has: followed outside the root, they would be found.
    (libdir / "libz.so.1").symlink_to(f"/lib/{TRIPLET}/libz.so.1")
    (libdir / "libm.so.6").symlink_to(f"../../../../../../../../../lib/{TRIPLET}/libm.so.6")
    (libdir / "loop.so").symlink_to("loop.so")
    loader = elf.Loader(root)
    assert os.path.exists(f"/lib/{TRIPLET}/libz.so.1")
    assert loader.search("libz.so.1", KIND) is None
    assert loader.search("libm.so.6", KIND) is None
    assert loader.search("loop.so", KIND) is None
    assert loader.root.resolve(f"/usr/lib/{TRIPLET}/libz.so.1") == f"/lib/{TRIPLET}/libz.so.1"


def test_a_library_of_another_machine_or_no_elf_at_all_is_passed_over(tmp_path):
    root = tmp_path / "root"
    first, second = root / "opt/first", root / "opt/second"
    first.mkdir(parents=True)
    fake_library(first / "libpick.so.1", "libpick.so.1", machine=OTHER_MACHINE)
    (first / "libtext.so.1").write_text("INPUT(-lfoo)\n")
    fake_library(second / "libpick.so.1", "libpick.so.1")
    fake_library(second / "libtext.so.1", "libtext.so.1")
    loader = elf.Loader(root)
    search = ["/opt/first", "/opt/second"]
    assert loader.search("libpick.so.1", KIND, runpath=search) == "/opt/second/libpick.so.1"
    assert loader.search("libtext.so.1", KIND, runpath=search) == "/opt/second/libtext.so.1"


def test_rpath_comes_before_ld_library_path_and_runpath_after(tmp_path, built):
    root = tmp_path / "root"
    for directory in ("opt/rpath", "opt/env", "opt/run"):
        fake_library(root / directory / "libpyslimtest.so.1", "libpyslimtest.so.1")
    loader = elf.Loader(root, library_path=["/opt/env"])
    assert loader.search("libpyslimtest.so.1", KIND, rpath=["/opt/rpath"]) == (
        "/opt/rpath/libpyslimtest.so.1"
    )
    # With a RUNPATH, the RPATH is not read at all.
    assert loader.search(
        "libpyslimtest.so.1", KIND, rpath=["/opt/rpath"], runpath=["/opt/run"]
    ) == ("/opt/env/libpyslimtest.so.1")
    assert elf.Loader(root).search("libpyslimtest.so.1", KIND, runpath=["/opt/run"]) == (
        "/opt/run/libpyslimtest.so.1"
    )


def test_dynamic_string_tokens():
    kind = (64, elf.EM_X86_64)
    assert elf.expand("$ORIGIN/../x.libs", "/site/pkg", kind) == "/site/pkg/../x.libs"
    assert elf.expand("${ORIGIN}/lib:$LIB", "/a", kind) == "/a/lib:lib/x86_64-linux-gnu"
    assert elf.expand("/opt/$PLATFORM", None, kind) == "/opt/x86_64"
    assert elf.expand("$ORIGINAL/x", "/a", kind) == "$ORIGINAL/x"
    assert elf.expand("$ORIGIN/x", None, kind) is None


def test_the_closure_of_the_host_python_holds_its_loader():
    python = host_python()
    closure = elf.Loader("/").closure([python])
    assert closure.unresolved == []
    assert closure.interpreters == {elf.read(python).interp}
    libc = closure.resolved["libc.so.6"]
    assert elf.read(libc).soname == "libc.so.6"
    assert libc in closure.libraries
    assert python in closure.reaching(python)
    assert libc in closure.reaching(python)


def test_dpkg_names_the_owner_of_a_library_under_either_usr_name():
    dpkg = elf.Dpkg("/")
    loader = elf.Loader("/")
    libz = loader.search("libz.so.1", KIND)
    package, _, listed = dpkg.owner(libz)
    assert package == "zlib1g"
    assert listed in dpkg.files("zlib1g")
    other = libz[len("/usr") :] if libz.startswith("/usr/") else "/usr" + libz
    assert dpkg.owner(other)[0] == "zlib1g"
    version = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "zlib1g"], capture_output=True, text=True
    ).stdout
    assert dpkg.version("zlib1g") == version
    assert dpkg.owner("/nonexistent/libnothing.so.1") is None
