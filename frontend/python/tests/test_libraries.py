"""libraries.py, run as the build runs it, on wheels of extensions gcc builds here: the runtime
image is a root laid out in tmp_path, the compile image this machine's own `/` (its ld.so.cache
and dpkg database)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

import elf
from conftest import LIBRARIES, gcc, run, write_native_wheel

KIND = elf.read(os.path.realpath(sys.executable)).kind
SITE = sysconfig.get_path("platlib")
SCRIPTS_DIR = sysconfig.get_path("scripts")
TAG = "cp311-cp311-linux_x86_64"


def libraries(env, report, *args, check=True):
    return run([sys.executable, LIBRARIES, "--report", report, *args], env, check=check)


def dpkg_version(package):
    return subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def host():
    """This machine's zlib, which every Debian has (dpkg needs it), and what it needs."""
    loader = elf.Loader("/")
    libz = loader.search("libz.so.1", KIND)
    return {"libz": libz, "libz_needs": elf.read(libz).needed}


@pytest.fixture(scope="module")
def built(tmp_path_factory, host):
    d = tmp_path_factory.mktemp("built")
    use_z = "const char *zlibVersion(void);\nconst char *f(void) { return zlibVersion(); }\n"
    # -nostdlib: the extension needs zlib alone, whatever gcc adds by default.
    z_ext = gcc(d / "zext.so", use_z, "-shared", "-nostdlib", host["libz"])
    z_tool = gcc(d / "ztool", use_z + "int main(void) { return !f(); }\n", host["libz"])
    nowhere = gcc(
        d / "gone" / "libpyslimnowhere.so.1",
        "int gone(void) { return 1; }\n",
        "-shared",
        "-Wl,-soname,libpyslimnowhere.so.1",
    )
    nowhere_ext = gcc(
        d / "nowhere.so",
        "int gone(void);\nint g(void) { return gone(); }\n",
        "-shared",
        "-nostdlib",
        str(nowhere),
    )
    bundled = gcc(
        d / "libpyslimbundled-1a2b3c.so.1",
        "int bundled(void) { return 2; }\n",
        "-shared",
        "-nostdlib",
        "-Wl,-soname,libpyslimbundled-1a2b3c.so.1",
    )
    # auditwheel's layout: the extension finds the library in a `.libs` directory beside its
    # package, here shipped by another wheel.
    bundled_ext = gcc(
        d / "bundled_ext.so",
        "int bundled(void);\nint h(void) { return bundled(); }\n",
        "-shared",
        "-nostdlib",
        str(bundled),
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../sibling.libs",
    )
    return {
        "z_ext": z_ext,
        "z_tool": z_tool,
        "nowhere_ext": nowhere_ext,
        "bundled": bundled,
        "bundled_ext": bundled_ext,
    }


@pytest.fixture
def runtime(tmp_path):
    """A runtime image with no libraries at all, not even libc."""
    root = tmp_path / "runtime"
    (root / "etc").mkdir(parents=True)
    return root


def test_reports_what_the_runtime_lacks_with_the_package_that_has_it(
    tmp_path, tool_env, built, host, runtime
):
    wheels = tmp_path / "wheels"
    write_native_wheel(
        wheels,
        "Zed",
        "1.0",
        {
            "zed/_z.cpython-311-x86_64-linux-gnu.so": built["z_ext"],
            "zed/__init__.py": b"",
            "Zed-1.0.data/scripts/ztool": built["z_tool"],
            "Zed-1.0.data/headers/z.h": b"\x7fELF not even a header",
        },
    )
    write_native_wheel(
        wheels,
        "nowhere",
        "2.0",
        {
            "nowhere/_n.cpython-311-x86_64-linux-gnu.so": built["nowhere_ext"],
            "bundling/_b.cpython-311-x86_64-linux-gnu.so": built["bundled_ext"],
        },
    )
    write_native_wheel(
        wheels, "sibling", "3.0", {"sibling.libs/libpyslimbundled-1a2b3c.so.1": built["bundled"]}
    )
    report = tmp_path / "out" / "libraries.json"
    result = libraries(tool_env, report, "--compile-root", "/", "--root", runtime, wheels)
    found = json.loads(report.read_text())
    assert found["version"] == 1
    assert found["scanned"] == {"wheels": 3, "elf_files": 5}
    missing = {entry["library"]: entry for entry in found["missing"]}
    assert sorted(missing) == [e["library"] for e in found["missing"]]
    # Bundled by the sibling wheel, found through $ORIGIN in the wheels' tree.
    assert "libpyslimbundled-1a2b3c.so.1" not in missing

    libz = missing["libz.so.1"]
    assert libz["package"] == "zlib1g"
    assert libz["package_version"] == dpkg_version("zlib1g")
    assert libz["provided_by"] in elf.Dpkg("/").files("zlib1g")
    assert [
        (e["wheel"], e["distribution"], e["version"], e["file"]) for e in libz["needed_by"]
    ] == [
        (f"Zed-1.0-{TAG}.whl", "Zed", "1.0", f"{SCRIPTS_DIR}/ztool"),
        (f"Zed-1.0-{TAG}.whl", "Zed", "1.0", f"{SITE}/zed/_z.cpython-311-x86_64-linux-gnu.so"),
    ]
    assert {e["via"] for e in libz["needed_by"]} == {None}

    # What zlib needs, the runtime lacks too: reported, as needed through zlib.
    for name in host["libz_needs"]:
        assert {e["via"] for e in missing[name]["needed_by"]} >= {"libz.so.1"}, name
    assert missing["libc.so.6"]["package"] == "libc6"

    nowhere = missing["libpyslimnowhere.so.1"]
    assert (nowhere["package"], nowhere["package_version"], nowhere["provided_by"]) == (
        None,
        None,
        None,
    )
    assert nowhere["needed_by"][0]["distribution"] == "nowhere"

    lines = result.stderr.splitlines()
    assert (
        f"pyslim: libz.so.1 (needed by {SCRIPTS_DIR}/ztool from Zed-1.0-{TAG}.whl and 1 more) is "
        "not in the runtime image; Debian package zlib1g provides it"
    ) in lines
    assert lines[-1] == (
        f"pyslim: scanned 5 ELF files in 3 wheels: {len(missing)} libraries missing"
    )

    # Written the same way every time.
    again = tmp_path / "again.json"
    libraries(tool_env, again, "--compile-root", "/", "--root", runtime, wheels)
    assert again.read_bytes() == report.read_bytes()


def test_nothing_missing_when_the_runtime_has_it(tmp_path, tool_env, built, host):
    runtime = tmp_path / "runtime"
    target = runtime / host["libz"].lstrip("/")
    target.parent.mkdir(parents=True)
    shutil.copyfile(host["libz"], target)
    for name in host["libz_needs"]:
        path = elf.Loader("/").search(name, KIND)
        shutil.copyfile(path, runtime / path.lstrip("/"))
    libc = elf.Loader("/").closure([elf.Loader("/").search("libc.so.6", KIND)])
    for path in libc.libraries:
        shutil.copyfile(path, runtime / path.lstrip("/"))
    write_native_wheel(tmp_path / "wheels", "Zed", "1.0", {"zed/_z.so": built["z_ext"]})
    report = tmp_path / "libraries.json"
    result = libraries(
        tool_env, report, "--compile-root", "/", "--root", runtime, tmp_path / "wheels"
    )
    assert json.loads(report.read_text())["missing"] == []
    assert (
        result.stderr.splitlines()[-1]
        == "pyslim: scanned 1 ELF files in 1 wheels: 0 libraries missing"
    )


def test_an_unreadable_wheel_or_bad_usage_exits_2_with_one_line(tmp_path, tool_env, runtime):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "broken-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 not really a zip")
    report = tmp_path / "libraries.json"
    result = libraries(
        tool_env, report, "--compile-root", "/", "--root", runtime, wheels, check=False
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "broken-1.0-py3-none-any.whl" in result.stderr
    assert not report.exists()

    result = run([sys.executable, LIBRARIES, wheels], tool_env, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "--report" in result.stderr


def test_a_damaged_elf_member_is_a_warning(tmp_path, tool_env, built, runtime):
    data = bytearray(built["z_ext"].read_bytes())
    data[32:40] = b"\xff" * 8  # e_phoff far past the end
    wheels = tmp_path / "wheels"
    path = write_native_wheel(wheels, "odd", "1.0", {"odd/_o.so": bytes(data)})
    with zipfile.ZipFile(path) as archive:
        assert archive.read("odd/_o.so")[:4] == b"\x7fELF"
    report = tmp_path / "libraries.json"
    result = libraries(tool_env, report, "--compile-root", "/", "--root", runtime, wheels)
    assert json.loads(report.read_text())["missing"] == []
    assert f"{SITE}/odd/_o.so in odd-1.0-{TAG}.whl is not a readable ELF file" in result.stderr
