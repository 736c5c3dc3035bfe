"""install_wheels.py, run as the build runs it, into a throwaway venv instead of the image's
Python."""

import importlib.metadata
import importlib.util
import os
import shutil
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import INSTALL_WHEELS, SCRIPTS, run, write_wheel

CHECKED_HASH = 0b11  # PEP 552 flags: hash-based, checked against the source on import


def site_packages(venv):
    return venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def installed(venv):
    """Name -> version of what the venv itself holds, not the interpreter it sees through."""
    found = importlib.metadata.distributions(path=[str(site_packages(venv))])
    return {d.metadata["Name"]: d.version for d in found}


def sources(venv, module):
    return sorted((site_packages(venv) / module).glob("*.py"))


def pyc_flags(source):
    """The flags of a source's bytecode (None without one), after checking that a hash-based
    one holds this source's hash."""
    cached = importlib.util.cache_from_source(str(source))
    if not os.path.exists(cached):
        return None
    with open(cached, "rb") as pyc:
        header = pyc.read(16)
    flags = int.from_bytes(header[4:8], "little")
    if flags & 1:
        assert header[8:16] == importlib.util.source_hash(source.read_bytes()), source
    return flags


@pytest.fixture(params=["pip", "uv stand-in", "uv"])
def installer(request, tmp_path, venv, env):
    """What the script is told to install with. uv is fetched in the build; here it must be on
    PATH (scripts/test installs the version the build pins). Its stand-in takes the same
    arguments and installs with pip, without bytecode: what the uv path of the script does after
    the install runs either way."""
    if request.param == "pip":
        return "pip"
    if request.param == "uv":
        uv = shutil.which("uv")
        if uv is None:
            pytest.fail("uv is not on PATH: run the tests through scripts/test, which installs it")
        # --system means the first Python on PATH that is not a venv, this machine's own, unless
        # UV_PYTHON names one. uv says where it would install; anywhere but the venv, no test.
        env["UV_PYTHON"] = str(venv / "bin" / "python")
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        probe = run(
            [uv, "pip", "install", "--dry-run", "--system", "--no-config", "--no-index", "pip"],
            env,
            check=False,
            cwd=elsewhere,
        )
        if f"environment at: {venv}\n" not in probe.stderr:
            # Refuse rather than install into this machine's own Python.
            pytest.fail(f"this uv would not install into the test's venv:\n{probe.stderr}")
        return uv
    stand_in = tmp_path / "uv-stand-in" / "uv"
    stand_in.parent.mkdir()
    stand_in.write_text(
        f"#!{venv / 'bin' / 'python'}\n"
        + textwrap.dedent(
            """
            import subprocess
            import sys

            command, options = sys.argv[1:3], sys.argv[3:]
            assert command == ["pip", "install"], sys.argv
            uv_only = ["--system", "--no-config", "--link-mode=copy", "--no-cache"]
            assert options[:4] == uv_only, options
            pip = [sys.executable, "-m", "pip", "install", "--no-compile", "--no-cache-dir"]
            sys.exit(subprocess.call(pip + options[4:]))
            """
        )
    )
    stand_in.chmod(0o755)
    return str(stand_in)


def install(venv, env, *args):
    return run([venv / "bin" / "python", INSTALL_WHEELS, *args], env)


def test_installs_every_wheel_by_name_with_checked_hash_bytecode(tmp_path, venv, env, installer):
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "alpha", "1.0", requires=["beta"])
    write_wheel(wheels, "beta", "2.0")
    # Installed before, as a base image's packages are: not this step's to compile.
    with zipfile.ZipFile(write_wheel(tmp_path / "base", "bystander", "1.0")) as archive:
        archive.extractall(site_packages(venv))

    install(venv, env, installer, "--no-deps", wheels)
    assert installed(venv) == {"alpha": "1.0", "beta": "2.0", "bystander": "1.0"}
    # Asked for by name, so nothing records the file it came from (PEP 610).
    assert not list(site_packages(venv).glob("*.dist-info/direct_url.json"))
    for module in ("alpha", "beta"):
        assert [pyc_flags(s) for s in sources(venv, module)] == [CHECKED_HASH] * 2, module
    assert [pyc_flags(s) for s in sources(venv, "bystander")] == [None] * 2
    # Nothing that holds the time of the install (uv writes uv_cache.json), nor a RECORD line
    # for it.
    infos = sorted(site_packages(venv).glob("*.dist-info"))
    assert not [p for info in infos for p in info.iterdir() if p.name == "uv_cache.json"]
    assert not [i for i in infos if "uv_cache.json" in (i / "RECORD").read_text()]


def test_forgets_uvs_install_time_and_its_record_line(tmp_path):
    import install_wheels

    info = tmp_path / "alpha-1.0.dist-info"
    info.mkdir()
    (info / "uv_cache.json").write_text('{"timestamp":{"secs_since_epoch":1796112483}}')
    record = (
        "alpha/__init__.py,sha256=abc,12\r\n"
        "alpha-1.0.dist-info/uv_cache.json,sha256=def,127\r\n"
        "alpha-1.0.dist-info/RECORD,,\r\n"
    )
    (info / "RECORD").write_bytes(record.encode())
    install_wheels.forget_install_time(str(info))
    assert sorted(p.name for p in info.iterdir()) == ["RECORD"]
    # The other lines as they were, line ends and all.
    assert (info / "RECORD").read_bytes() == (
        b"alpha/__init__.py,sha256=abc,12\r\nalpha-1.0.dist-info/RECORD,,\r\n"
    )


def test_more_directories_only_supply_what_the_first_needs(tmp_path, venv, env):
    write_wheel(tmp_path / "app", "app", "1.0", requires=["alpha"])
    write_wheel(tmp_path / "wheels", "alpha", "1.0")
    write_wheel(tmp_path / "wheels", "beta", "1.0")
    install(venv, env, "pip", tmp_path / "app", tmp_path / "wheels")
    assert installed(venv) == {"app": "1.0", "alpha": "1.0"}


def test_a_missing_installer_means_pip(tmp_path, venv, env):
    # The compile stage could not fetch uv, and left its directory empty.
    write_wheel(tmp_path / "wheels", "alpha", "1.0")
    install(venv, env, tmp_path / "uv" / "bin" / "uv", "--no-deps", tmp_path / "wheels")
    assert installed(venv) == {"alpha": "1.0"}
    assert (site_packages(venv) / "alpha-1.0.dist-info" / "INSTALLER").read_text().strip() == "pip"


def test_an_empty_directory_installs_nothing(tmp_path, venv, env):
    (tmp_path / "wheels").mkdir()
    result = install(venv, env, "pip", "--no-deps", tmp_path / "wheels")
    assert "nothing to install" in result.stderr
    assert installed(venv) == {}


def test_bytecode_does_not_depend_on_the_source_mtime(tmp_path, env):
    # Two builds are two processes, each with its own hash seed, and install the source at
    # different times.
    source = tmp_path / "module.py"
    source.write_text('def kind(x):\n    return x in {"alpha", "beta", "gamma", "delta"}\n')
    compile_it = (
        "import sys\n"
        f"sys.path.insert(0, {str(SCRIPTS)!r})\n"
        "import install_wheels\n"
        "assert install_wheels.compile_file(sys.argv[1])\n"
    )
    cached = importlib.util.cache_from_source(str(source))
    builds = []
    for seed, mtime in (("1", 1_000_000_000), ("2", 1_700_000_000)):
        os.utime(source, (mtime, mtime))
        # Importing the script must leave no bytecode of it in the source tree.
        seeded = {**env, "PYTHONHASHSEED": seed, "PYTHONDONTWRITEBYTECODE": "1"}
        run([sys.executable, "-c", compile_it, source], seeded)
        with open(cached, "rb") as pyc:
            builds.append(pyc.read())
        os.remove(cached)
    assert builds[0] == builds[1]
    assert int.from_bytes(builds[0][4:8], "little") == CHECKED_HASH


def test_bytecode_is_compiled_once_per_source_and_path(tmp_path):
    import install_wheels

    cache = install_wheels.BytecodeCache(str(tmp_path / "cache"))
    site = tmp_path / "site"
    site.mkdir()
    files = []
    for name in ("one", "two"):
        source = site / f"{name}.py"
        source.write_text(f"NAME = {name!r}\n")
        files.append(str(source))
    assert install_wheels.compile_all(files, cache) == (2, 0)
    fresh = {f: Path(importlib.util.cache_from_source(f)).read_bytes() for f in files}
    shutil.rmtree(site / "__pycache__")

    # Another build: the same files come from the cache, byte for byte what compiling wrote.
    assert install_wheels.compile_all(files, cache) == (2, 2)
    assert {f: Path(importlib.util.cache_from_source(f)).read_bytes() for f in files} == fresh
    assert [pyc_flags(Path(f)) for f in files] == [CHECKED_HASH] * 2

    # A changed source is compiled again; so is the same source at another path, whose
    # bytecode names that path.
    shutil.rmtree(site / "__pycache__")
    Path(files[0]).write_text("NAME = 'changed'\n")
    moved = tmp_path / "elsewhere" / "two.py"
    moved.parent.mkdir()
    shutil.copy(files[1], moved)
    assert install_wheels.compile_all([files[0], str(moved)], cache) == (2, 0)
    assert Path(importlib.util.cache_from_source(files[0])).read_bytes() != fresh[files[0]]


@pytest.mark.parametrize("installer", ["uv"], indirect=True)  # uv's own cache
def test_uv_unpacks_a_wheel_once_and_never_takes_another_of_its_name_for_it(
    tmp_path, env, installer
):
    cache = tmp_path / "cache"
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "alpha", "1.0", message="first")
    for build, message in enumerate(["first", "first", "rebuilt"]):
        if message == "rebuilt":
            # Another file under the same name (an app edited, a package built again), with
            # the old file's times: nothing but its bytes tells them apart.
            old = wheels / "alpha-1.0-py3-none-any.whl"
            times = old.stat()
            write_wheel(wheels, "alpha", "1.0", message="rebuilt")
            os.utime(old, ns=(times.st_atime_ns, times.st_mtime_ns))
        venv = tmp_path / f"venv-{build}"
        run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", venv], env)
        env["UV_PYTHON"] = str(venv / "bin" / "python")
        result = install(venv, env, installer, "--cache", cache, "--no-deps", wheels)
        said = (site_packages(venv) / "alpha" / "__init__.py").read_text()
        assert f"MESSAGE = {message!r}" in said, (build, said)
        if build == 1:
            assert "Prepared" not in result.stderr, "unpacked again:\n" + result.stderr
