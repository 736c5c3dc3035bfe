"""target_wheels.py's arguments for pip: what it asks for decides what the target gets without
emulation, and what it must never take (a wheel for a newer C library than the target's); and
its report of a package nothing can provide for the target."""

import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

from conftest import SCRIPTS, project, run, write_native_wheel

SCRIPT = SCRIPTS / "target_wheels.py"

spec = importlib.util.spec_from_file_location("target_wheels", SCRIPT)
target_wheels = importlib.util.module_from_spec(spec)
spec.loader.exec_module(target_wheels)


def test_manylinux_tags_stop_at_this_machines_glibc():
    tags = target_wheels.platform_tags("aarch64", (2, 36))
    assert tags[0] == "manylinux_2_36_aarch64"
    assert "manylinux_2_17_aarch64" in tags
    assert "manylinux_2_37_aarch64" not in tags
    assert tags[-1] == "manylinux2014_aarch64"


def test_binary_wheels_only_for_the_targets_python():
    args = target_wheels.download_args("aarch64", "3.11", ["--requirement", "r.txt"])
    assert args[:2] == ["download", "--only-binary=:all:"]
    assert args[args.index("--python-version") + 1] == "3.11"
    assert args[args.index("--abi") + 1] == "cp311"
    assert args[-2:] == ["--requirement", "r.txt"]


def test_sources_that_are_always_built_make_it_incomplete():
    pip_args = ["--requirement", "a.txt", "--unhashed-requirement", "b.txt"]
    assert target_wheels.download_args("aarch64", "3.11", pip_args) is None


def write_sdist(directory, name, version):
    """A setuptools source distribution of an empty module."""
    base = f"{name}-{version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "setup.py": f"from setuptools import setup\nsetup(name={name!r}, version={version!r})\n",
    }
    path = Path(directory) / f"{base}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for inside, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{base}/{inside}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def download_for_aarch64(tmp_path, index, env, requirements):
    """The report of a download for an aarch64 target of REQUIREMENTS from INDEX."""
    listed = tmp_path / "requirements.txt"
    listed.write_text(requirements)
    report = tmp_path / "report" / "native.json"
    args = [sys.executable, SCRIPT, report, tmp_path / "out", "aarch64", "3.11"]
    run([*args, "--index-url", index.url, "--requirement", listed], env)
    return json.loads(report.read_text())


def x86_64_wheel(index, name):
    wheel = write_native_wheel(
        index.root / "files",
        name,
        "1.0",
        {f"{project(name).replace('-', '_')}/__init__.py": b""},
        tag="cp311-cp311-manylinux_2_17_x86_64",
    )
    index.add(wheel)


def test_a_package_with_no_wheel_for_the_target_and_no_source_is_unbuildable(
    tmp_path, index, tool_env
):
    x86_64_wheel(index, "Only_X86")
    report = download_for_aarch64(tmp_path, index, tool_env, "Only_X86==1.0\n")
    assert report["complete"] is False
    assert report["unbuildable"] == [{"requirement": "Only_X86==1.0", "name": "only-x86"}]


def test_a_package_with_a_source_distribution_is_built_on_the_target(tmp_path, index, tool_env):
    x86_64_wheel(index, "withsrc")
    index.add(write_sdist(index.root / "files", "withsrc", "1.0"))
    report = download_for_aarch64(tmp_path, index, tool_env, "withsrc==1.0\n")
    assert report["complete"] is False
    assert "unbuildable" not in report


def test_a_requirements_file_that_names_an_index_leaves_the_question_open(tmp_path):
    listed = tmp_path / "requirements.txt"
    nested = tmp_path / "more.txt"
    listed.write_text("a==1\n-r more.txt\n")
    nested.write_text("--extra-index-url https://example.org/simple\nb==1\n")
    args = ["--index-url", "https://i/simple", "--requirement", str(listed)]
    assert target_wheels.index_args(args) is None
    nested.write_text("b==1\n")
    assert target_wheels.index_args(args) == ["--index-url", "https://i/simple"]
