"""minimal.py, run as the build runs it: on this machine's own `/` with Debian's Python, and on
a root laid out in tmp_path (an image in miniature, with gcc-built stand-ins for the interpreter
and its libraries, and a dpkg database of its own), layer after layer."""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import elf
from conftest import MINIMAL, gcc, run, write_native_wheel

TRIPLET = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True).stdout.strip()
ROOT_USER = os.geteuid() == 0


def minimal(env, out, layer, *args, check=True, python=sys.executable):
    return run([python, MINIMAL, "--out", out, "--layer", layer, *args], env, check=check)


def tree(out):
    """Every path under OUT, relative, with a / after directories and -> TARGET after links."""
    found = set()
    for directory, dirnames, filenames in os.walk(out):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            inside = "/" + os.path.relpath(path, out)
            if os.path.islink(path):
                found.add(f"{inside} -> {os.readlink(path)}")
            elif os.path.isdir(path):
                found.add(inside + "/")
            else:
                found.add(inside)
    return found


def packages_owning(paths):
    """The packages dpkg-query says own PATHS, under either merged-/usr name."""
    queries = set()
    for path in paths:
        queries.add(path)
        queries.add(path[len("/usr") :] if path.startswith("/usr/") else "/usr" + path)
    result = subprocess.run(
        ["dpkg-query", "-S", *sorted(queries)], capture_output=True, text=True
    ).stdout
    owners = set()
    for line in result.splitlines():
        if line.startswith("diversion by"):
            continue
        packages, _, _ = line.partition(": ")
        owners.update(p.strip().split(":")[0] for p in packages.split(","))
    return owners


def test_the_interpreter_layer_of_this_machine(tmp_path, tool_env):
    python = "/usr/bin/python3.11" if os.path.exists("/usr/bin/python3.11") else sys.executable
    out = tmp_path / "out"
    result = minimal(tool_env, out, "interpreter", "--user", "nobody", python=python)
    ask = "import json, os, sys, sysconfig; print(json.dumps([os.path.realpath(sys.executable), "
    ask += "sysconfig.get_path('stdlib')]))"
    real, stdlib = json.loads(run([python, "-c", ask], tool_env).stdout)
    assert (out / real.lstrip("/")).is_file()
    assert os.stat(out / real.lstrip("/")).st_mode == os.stat(real).st_mode
    assert (out / stdlib.lstrip("/") / "os.py").is_file()
    assert (out / stdlib.lstrip("/") / "json" / "__init__.py").is_file()
    for absent in ("test", "idlelib", "ensurepip", "lib2to3", "tkinter", "site-packages/pip"):
        assert not (out / stdlib.lstrip("/") / absent).exists(), absent
    assert not list(out.glob("**/lib-dynload/_testcapi*"))
    assert not list(out.glob("**/site-packages/*")) and not list(out.glob("**/dist-packages/*"))

    closure = elf.Loader("/").closure([real])
    libc = closure.resolved["libc.so.6"]
    assert (out / os.path.realpath(libc).lstrip("/")).is_file()
    # The loader, by the name the interpreter gives it: symlinks kept, and what they lead to.
    (interp,) = closure.interpreters
    assert os.path.lexists(out / interp.lstrip("/"))
    assert os.path.isfile(out / os.path.realpath(interp).lstrip("/"))
    for top in ("lib", "lib64", "bin"):
        if os.path.islink(f"/{top}"):
            assert os.readlink(out / top) == os.readlink(f"/{top}")

    assert (out / "etc/passwd").read_text().splitlines() == [
        line
        for line in Path("/etc/passwd").read_text().splitlines()
        if line.split(":")[0] in ("root", "nobody")
    ]
    assert not (out / "etc/shadow").exists()
    assert stat.S_IMODE(os.stat(out / "tmp").st_mode) == 0o1777
    if os.path.exists("/etc/ssl/certs/ca-certificates.crt"):
        certificates = out / "etc/ssl/certs/ca-certificates.crt"
        assert certificates.is_file() and not certificates.is_symlink()

    records = {p.name for p in (out / "var/lib/dpkg/status.d").iterdir()}
    assert "libc6" in records
    assert os.listdir(out / "var/lib/dpkg") == ["status.d"]
    gathered = [
        "/" + os.path.relpath(os.path.join(d, n), out)
        for d, dirs, files in os.walk(out)
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]
    ]
    gathered = [
        p
        for p in gathered
        if not p.startswith("/var/lib/dpkg/")
        and p not in ("/etc/passwd", "/etc/group")
        and not os.path.isdir(p)
    ]
    assert records == packages_owning(gathered)
    libc6 = (out / "var/lib/dpkg/status.d/libc6").read_text()
    version = run(["dpkg-query", "-W", "-f", "${Version}", "libc6"], tool_env).stdout
    assert libc6.startswith("Package: libc6\n")
    assert f"\nVersion: {version}\n" in libc6
    assert f"{len(records)} packages recorded" in result.stderr.splitlines()[-1]


def test_the_packages_layer_of_a_wheel_installed_on_this_machine(tmp_path, tool_env):
    """A wheel's extension that needs zlib, installed into a site directory of tmp_path: the
    layer holds the distribution's files, and zlib with its dpkg record, as the earlier layer
    (a --have root) holds libc and the loader."""
    loader = elf.Loader("/")
    kind = elf.read(os.path.realpath(sys.executable)).kind
    libz = loader.search("libz.so.1", kind)
    extension = gcc(
        tmp_path / "built/_z.so",
        "const char *zlibVersion(void);\nconst char *f(void) { return zlibVersion(); }\n",
        "-shared",
        "-nostdlib",
        libz,
    )
    wheel = write_native_wheel(
        tmp_path / "wheels", "Zed", "1.0", {"zed/__init__.py": b"", "zed/_z.so": extension}
    )
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (site / "zed/__pycache__").mkdir()
    (site / "zed/__pycache__/__init__.cpython-311.pyc").write_bytes(b"")
    (site / "zed/__pycache__/gone.cpython-311.pyc").write_bytes(b"")

    have = tmp_path / "have"
    for path in elf.Loader("/").closure([libz]).libraries - {libz}:
        (have / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (have / path.lstrip("/")).write_bytes(b"")
        (have / os.path.realpath(path).lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (have / os.path.realpath(path).lstrip("/")).write_bytes(b"")
    (have / "var/lib/dpkg/status.d").mkdir(parents=True)
    (have / "var/lib/dpkg/status.d/libc6").write_text("Package: libc6\n")

    out = tmp_path / "out"
    info = json.dumps({"site": [str(site)]})
    args = ["--python-info", info, "--have", have, "--wheels", tmp_path / "wheels"]
    minimal(tool_env, out, "packages", *args)
    files = {p for p in tree(out) if not p.endswith("/") and " -> " not in p}
    zlib = {
        path
        for path in files
        if not path.startswith(str(site)) and not path.startswith("/var/lib/dpkg/")
    }
    assert {p for p in files if p.startswith(str(site))} == {
        f"{site}/zed/__init__.py",
        f"{site}/zed/__pycache__/__init__.cpython-311.pyc",
        f"{site}/zed/_z.so",
        f"{site}/Zed-1.0.dist-info/METADATA",
        f"{site}/Zed-1.0.dist-info/WHEEL",
        f"{site}/Zed-1.0.dist-info/RECORD",
    }
    assert zlib == {os.path.realpath(libz)}
    assert records(out) == ["zlib1g"]


def fake_library(path, soname, *needs):
    """A library with nothing in it that needs NEEDS (files)."""
    # --no-as-needed: what it links, it needs, though it uses nothing of them.
    flags = ["-shared", "-nostdlib", "-Wl,--no-as-needed", f"-Wl,-soname,{soname}"]
    flags += map(str, needs)
    return gcc(path, f"int {soname.split('.')[0].replace('-', '_')}_x;\n", *flags)


STANZA = """Package: {name}
Status: install ok installed
Priority: optional
Architecture: amd64
Version: {version}
Description: {name} for the tests
 More lines of description.
"""


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A slim image in miniature (see the module's docstring)."""
    build = tmp_path_factory.mktemp("build")
    root = tmp_path_factory.mktemp("image")
    lib = root / "usr/lib" / TRIPLET
    lib.mkdir(parents=True)
    (root / "usr/bin").mkdir()
    (root / "lib").symlink_to("usr/lib")
    (root / "bin").symlink_to("usr/bin")
    (root / "lib64").symlink_to("/usr/lib64")
    (root / "usr/lib64").mkdir()
    interp = elf.read(sys.executable).interp or elf.read("/bin/sh").interp
    ld = os.path.basename(interp)
    fake_library(lib / ld, ld)
    (root / "usr/lib64" / ld).symlink_to(f"/lib/{TRIPLET}/{ld}")
    fake_library(lib / "libc.so.6", "libc.so.6")
    fake_library(lib / "libgcc_s.so.1", "libgcc_s.so.1")
    fake_library(lib / "libunused.so.1", "libunused.so.1")
    fake_library(lib / "libpyslimpy.so.1.0", "libpyslimpy.so.1")
    (lib / "libpyslimpy.so.1").symlink_to("libpyslimpy.so.1.0")
    ssl = fake_library(lib / "libpyslimssl.so.3", "libpyslimssl.so.3")
    helper_lib = fake_library(lib / "libpyslimhelper.so.1", "libpyslimhelper.so.1")
    mod_lib = fake_library(lib / "libpyslimmod.so.1", "libpyslimmod.so.1")
    gone = fake_library(build / "libpyslimgone.so.1", "libpyslimgone.so.1")
    main = "int main(void) { return 0; }\n"
    gcc(root / "usr/bin/python3.99", main, "-Wl,--no-as-needed", str(lib / "libpyslimpy.so.1"))
    (root / "usr/bin/python3").symlink_to("python3.99")
    (root / "usr/bin/python").symlink_to("/usr/bin/python3")
    (root / "usr/bin/python3-config").symlink_to("python3.99")
    gcc(root / "usr/bin/helper", main, "-Wl,--no-as-needed", str(helper_lib))
    (root / "usr/bin/sh").write_text("#!not gathered\n")

    std = root / "usr/lib/python3.99"
    files = {
        "os.py": "",
        "__pycache__/os.cpython-399.pyc": "",
        "json/__init__.py": "",
        "json/tests/test_json.py": "",
        "test/test_os.py": "",
        "idlelib/__init__.py": "",
        "ensurepip/__init__.py": "",
        "config-3.99-x86_64-linux-gnu/Makefile": "",
        "site-packages/pip/__init__.py": "",
        "site-packages/mod/__init__.py": "",
        "site-packages/mod/__pycache__/__init__.cpython-399.pyc": "",
        "site-packages/mod/__pycache__/other.cpython-399.pyc": "",
        "site-packages/Mod-1.0.dist-info/METADATA": "Name: Mod\nVersion: 1.0\n",
        "site-packages/Mod-1.0.dist-info/INSTALLER": "pip\n",
        "site-packages/Mod-1.0.dist-info/RECORD": "mod/__init__.py,,\nmod/_ext.so,,\n"
        "../../../bin/modtool,,\nMod-1.0.dist-info/RECORD,,\n",
        "site-packages/Broken-1.0.dist-info/RECORD": "broken/_b.so,,\n",
    }
    for inside, text in files.items():
        (std / inside).parent.mkdir(parents=True, exist_ok=True)
        (std / inside).write_text(text)
    (std / "os.py").chmod(0o640)
    (std / "lib-dynload").mkdir()
    fake_library(std / "lib-dynload/_ssl.cpython-399-x86_64-linux-gnu.so", "_ssl", ssl)
    fake_library(std / "lib-dynload/_testcapi.cpython-399-x86_64-linux-gnu.so", "_t", gone)
    fake_library(std / "site-packages/mod/_ext.so", "_ext", ssl, mod_lib)
    fake_library(std / "site-packages/broken/_b.so", "_b", gone)
    (root / "usr/bin/modtool").write_text("#!/usr/bin/python3.99\n")

    etc = root / "etc"
    (etc / "ssl/certs").mkdir(parents=True)
    (root / "usr/share/ca").mkdir(parents=True)
    (root / "usr/share/ca/bundle.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (etc / "ssl/certs/ca-certificates.crt").symlink_to("/usr/share/ca/bundle.crt")
    (root / "usr/lib/os-release").write_text('ID=debian\nVERSION_ID="99"\n')
    (etc / "os-release").symlink_to("../usr/lib/os-release")
    (etc / "debian_version").write_text("99.0\n")
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "app:x:1000:1000::/home/app:/bin/sh\n"
    )
    (etc / "group").write_text("root:x:0:\ndaemon:x:1:\nstaff:x:50:\napp:x:1000:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "home/app").mkdir(parents=True)
    (root / "home/app").chmod(0o750)
    if ROOT_USER:
        os.chown(root / "home/app", 1000, 1000)
    (root / "tmp").mkdir()
    (root / "usr/share/tools1").mkdir(parents=True)
    (root / "usr/share/tools1/data.txt").write_text("data\n")
    (root / "usr/share/tools1/dangling").symlink_to("/usr/share/not-installed/x")
    (root / "usr/share/doc/tools1").mkdir(parents=True)
    (root / "usr/share/doc/tools1/copyright").write_text("free\n")

    app = root / "srv/app"
    (app / "data").mkdir(parents=True)
    (app / "data").chmod(0o770)
    (app / "app.py").write_text("print('hi')\n")
    (app / "app.py").chmod(0o600)
    (app / "current").symlink_to("app.py")
    gcc(app / "native", main, "-Wl,--no-as-needed", str(mod_lib))

    lists = {
        "libc6:amd64": [
            "/.",
            "/lib",
            f"/lib/{TRIPLET}",
            f"/lib/{TRIPLET}/libc.so.6",
            f"/lib/{TRIPLET}/{ld}",
            f"/lib64/{ld}",
            "/usr/share/doc/libc6/copyright",
        ],
        "libgcc-s1:amd64": [f"/lib/{TRIPLET}/libgcc_s.so.1"],
        "pydeb": ["/usr/bin/python3.99", "/usr/lib/python3.99/os.py"],
        "libpy1:amd64": [f"/usr/lib/{TRIPLET}/libpyslimpy.so.1.0"],
        "libpyslimssl3:amd64": [f"/lib/{TRIPLET}/libpyslimssl.so.3"],
        "libunused1:amd64": [f"/usr/lib/{TRIPLET}/libunused.so.1"],
        "libhelper1:amd64": [f"/usr/lib/{TRIPLET}/libpyslimhelper.so.1"],
        "libmod1:amd64": [f"/usr/lib/{TRIPLET}/libpyslimmod.so.1"],
        "tools1:amd64": [
            "/usr",
            "/usr/bin",
            "/bin/helper",
            "/usr/share/tools1/data.txt",
            "/usr/share/tools1/dangling",
            "/usr/share/doc/tools1/copyright",
            "/usr/share/tools1/deleted-since.txt",
        ],
        "base-files:amd64": ["/etc/os-release", "/usr/lib/os-release", "/etc/debian_version"],
    }
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    stanzas = []
    for key, paths in lists.items():
        (info / f"{key}.list").write_text("".join(f"{p}\n" for p in paths))
        stanzas.append(STANZA.format(name=key.split(":")[0], version="1.0-1"))
    (root / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    (info / "libc6:amd64.md5sums").write_text("not copied\n")
    python_info = {
        "executable": "/usr/bin/python",
        "version": "3.99",
        "stdlib": ["/usr/lib/python3.99", "/usr/lib/python3.99/lib-dynload"],
        "site": ["/usr/lib/python3.99/site-packages", "/usr/local/lib/python3.99/dist-packages"],
    }
    return {"root": root, "info": json.dumps(python_info), "ld": ld, "stanza": STANZA}


def in_image(image, *args):
    return ["--root", image["root"], "--python-info", image["info"], *args]


def records(out):
    directory = out / "var/lib/dpkg/status.d"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_layer_after_layer_of_an_image_in_miniature(tmp_path, tool_env, image):
    lib = f"/usr/lib/{TRIPLET}"
    ld = image["ld"]
    first = tmp_path / "interpreter"
    args = in_image(image, "--user", "app", "--package", "tools1")
    minimal(tool_env, first, "interpreter", *args)
    assert tree(first) == {
        "/bin -> usr/bin",
        "/lib -> usr/lib",
        "/lib64 -> /usr/lib64",
        "/etc/",
        "/etc/passwd",
        "/etc/group",
        "/etc/os-release -> ../usr/lib/os-release",
        "/etc/debian_version",
        "/etc/ssl/",
        "/etc/ssl/certs/",
        "/etc/ssl/certs/ca-certificates.crt",
        "/home/",
        "/home/app/",
        "/tmp/",
        "/usr/",
        "/usr/bin/",
        "/usr/bin/python3.99",
        "/usr/bin/python3 -> python3.99",
        "/usr/bin/python -> /usr/bin/python3",
        "/usr/bin/helper",
        "/usr/lib/",
        "/usr/lib/os-release",
        f"{lib}/",
        f"{lib}/libc.so.6",
        f"{lib}/{ld}",
        f"{lib}/libgcc_s.so.1",
        f"{lib}/libpyslimpy.so.1 -> libpyslimpy.so.1.0",
        f"{lib}/libpyslimpy.so.1.0",
        f"{lib}/libpyslimssl.so.3",
        f"{lib}/libpyslimhelper.so.1",
        "/usr/lib64/",
        f"/usr/lib64/{ld} -> /lib/{TRIPLET}/{ld}",
        "/usr/lib/python3.99/",
        "/usr/lib/python3.99/os.py",
        "/usr/lib/python3.99/__pycache__/",
        "/usr/lib/python3.99/__pycache__/os.cpython-399.pyc",
        "/usr/lib/python3.99/json/",
        "/usr/lib/python3.99/json/__init__.py",
        "/usr/lib/python3.99/lib-dynload/",
        "/usr/lib/python3.99/lib-dynload/_ssl.cpython-399-x86_64-linux-gnu.so",
        "/usr/lib/python3.99/site-packages/",
        "/usr/share/",
        "/usr/share/tools1/",
        "/usr/share/tools1/data.txt",
        "/usr/share/tools1/dangling -> /usr/share/not-installed/x",
        "/var/",
        "/var/lib/",
        "/var/lib/dpkg/",
        "/var/lib/dpkg/status.d/",
        "/var/lib/dpkg/status.d/base-files",
        "/var/lib/dpkg/status.d/libc6",
        "/var/lib/dpkg/status.d/libgcc-s1",
        "/var/lib/dpkg/status.d/libhelper1",
        "/var/lib/dpkg/status.d/libpy1",
        "/var/lib/dpkg/status.d/libpyslimssl3",
        "/var/lib/dpkg/status.d/pydeb",
        "/var/lib/dpkg/status.d/tools1",
    }
    assert (first / "etc/passwd").read_text() == (
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
    )
    assert (first / "etc/group").read_text() == "root:x:0:\napp:x:1000:\n"
    assert (first / "etc/ssl/certs/ca-certificates.crt").read_text().startswith("-----BEGIN")
    assert (first / "var/lib/dpkg/status.d/libc6").read_text() == image["stanza"].format(
        name="libc6", version="1.0-1"
    )
    assert stat.S_IMODE(os.stat(first / "usr/lib/python3.99/os.py").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(first / "home/app").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(first / "tmp").st_mode) == 0o1777
    if ROOT_USER:
        assert (os.stat(first / "home/app").st_uid, os.stat(first / "home/app").st_gid) == (
            1000,
            1000,
        )

    second = tmp_path / "packages"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "mod-1.0-py3-none-any.whl").write_bytes(b"")
    minimal(tool_env, second, "packages", *in_image(image, "--have", first, "--wheels", wheels))
    site = "/usr/lib/python3.99/site-packages"
    gathered = {p for p in tree(second) if not p.endswith("/")}
    assert gathered == {
        f"{site}/mod/__init__.py",
        f"{site}/mod/__pycache__/__init__.cpython-399.pyc",
        f"{site}/mod/_ext.so",
        f"{site}/Mod-1.0.dist-info/METADATA",
        f"{site}/Mod-1.0.dist-info/INSTALLER",
        f"{site}/Mod-1.0.dist-info/RECORD",
        "/usr/bin/modtool",
        # Needed by _ext.so, as libpyslimssl.so.3 is; that one the first layer has.
        f"{lib}/libpyslimmod.so.1",
        "/var/lib/dpkg/status.d/libmod1",
    }

    third = tmp_path / "app"
    haves = ["--have", first, "--have", second]
    minimal(tool_env, third, "app", *in_image(image, *haves, "--path", "/srv/app"))
    assert tree(third) == {
        "/srv/",
        "/srv/app/",
        "/srv/app/data/",
        "/srv/app/app.py",
        "/srv/app/current -> app.py",
        "/srv/app/native",
    }
    assert stat.S_IMODE(os.stat(third / "srv/app/data").st_mode) == 0o770
    assert stat.S_IMODE(os.stat(third / "srv/app/app.py").st_mode) == 0o600


def test_a_library_found_nowhere_names_the_file_and_the_library(tmp_path, tool_env, image):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "Broken-1.0-py3-none-any.whl").write_bytes(b"")
    result = minimal(
        tool_env, tmp_path / "out", "packages", *in_image(image, "--wheels", wheels), check=False
    )
    assert result.returncode == 1
    assert (
        "/usr/lib/python3.99/site-packages/broken/_b.so needs libpyslimgone.so.1, which is "
        "nowhere in the image"
    ) in result.stderr


def test_a_wheel_not_installed_is_an_error(tmp_path, tool_env, image):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "absent-2.0-py3-none-any.whl").write_bytes(b"")
    result = minimal(
        tool_env, tmp_path / "out", "packages", *in_image(image, "--wheels", wheels), check=False
    )
    assert result.returncode == 1
    assert "absent-2.0-py3-none-any.whl is not installed" in result.stderr


def test_nothing_is_written_through_a_symlink_in_out(tmp_path, tool_env, image):
    out = tmp_path / "out"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / "srv").symlink_to(elsewhere)
    result = minimal(tool_env, out, "app", *in_image(image, "--path", "/srv/app"), check=False)
    assert result.returncode == 1
    assert "/srv is not a directory in" in result.stderr
    assert os.listdir(elsewhere) == []
