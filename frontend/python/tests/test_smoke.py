"""smoke.py, run as the build runs it, on distributions installed into a directory on
PYTHONPATH: modules that import, fail, crash, exit or hang."""

import json
import os
import pathlib
import sys
import sysconfig
import tempfile

import pytest

from conftest import SMOKE, gcc, run

TRIPLET = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


def install(site, name, version, files, top_level=None):
    """A distribution as an installer leaves it: its files, and a .dist-info naming them."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    for path, data in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            (site / path).write_text(data)
        else:
            (site / path).write_bytes(data)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{p},,\n" for p in record))
    if top_level is not None:
        (info / "top_level.txt").write_text("".join(f"{m}\n" for m in top_level))


@pytest.fixture
def site(tmp_path, tool_env):
    site = tmp_path / "site"
    site.mkdir()
    tool_env["PYTHONPATH"] = str(site)
    return site


def smoke(env, cwd, *args, check=False):
    return run([sys.executable, SMOKE, *args], env, check=check, cwd=cwd)


def wheels_of(tmp_path, *names):
    directory = tmp_path / "wheels"
    directory.mkdir(exist_ok=True)
    for name in names:
        (directory / name).write_bytes(b"")
    return directory


def test_passing_failing_crashing_exiting_and_hanging_imports(tmp_path, tool_env, site):
    install(
        site,
        "good",
        "1.0",
        {
            "good/__init__.py": "import good.inner\n",
            "good/inner.py": "VALUE = 1\n",
            "helper_mod.py": "print('imported at build time')\n",
            "good.pth": "",
        },
    )
    install(
        site,
        "bad",
        "2.0",
        {
            "raises.py": "import a_module_that_is_not_there\n",
            "exits.py": "raise SystemExit(5)\n",
            "dies.py": "import os\nos._exit(3)\n",
            "hangs.py": "import time\ntime.sleep(60)\n",
            "crashes.py": "import ctypes\nctypes.string_at(0)\n",
            "after.py": "",
        },
        top_level=["raises", "exits", "dies", "hangs", "crashes", "after"],
    )
    wheels = wheels_of(tmp_path, "good-1.0-py3-none-any.whl", "bad-2.0-py3-none-any.whl")
    result = smoke(tool_env, tmp_path, "--wheels", wheels, "--timeout", "1")
    assert result.returncode == 1
    err = result.stderr
    assert "import good" not in err and "import helper_mod" not in err
    assert (
        "pyslim: smoke test: import raises (from bad 2.0) failed: ModuleNotFoundError: No module "
        "named 'a_module_that_is_not_there'"
    ) in err
    assert "    ModuleNotFoundError: No module named 'a_module_that_is_not_there'" in err
    assert "import exits (from bad 2.0) failed: SystemExit: 5" in err
    assert (
        "import dies (from bad 2.0) failed: the interpreter exited with status 3 during the import"
    ) in err
    assert (
        "import hangs (from bad 2.0) failed: import did not finish in 1 s: a module that starts a "
        "server or waits for a service at import belongs in smoke-test: skip"
    ) in err
    assert (
        "import crashes (from bad 2.0) failed: the interpreter was killed by SIGSEGV during the "
        "import"
    ) in err
    # In order: after, crashes, dies, exits, good, hangs, helper_mod, raises. A new worker went
    # on after each crash and the hang.
    assert "imported at build time" in err
    summary = err.splitlines()[-1]
    assert summary.startswith("pyslim: smoke test: imported 3 modules of 2 distributions in ")
    assert summary.endswith("; 5 failed")


def test_skip_leaves_a_module_out_and_an_unknown_name_is_an_error(tmp_path, tool_env, site):
    install(site, "svc", "1.0", {"svc/__init__.py": "raise RuntimeError('no database')\n"})
    wheels = wheels_of(tmp_path, "svc-1.0-py3-none-any.whl")
    result = smoke(tool_env, tmp_path, "--wheels", wheels, "--skip", "svc")
    assert result.returncode == 0, result.stderr
    assert "imported 0 modules of 1 distributions" in result.stderr

    result = smoke(tool_env, tmp_path, "--wheels", wheels, "--skip", "scv")
    assert result.returncode == 2
    assert result.stderr == (
        "pyslim: smoke.py: --skip scv: no such module among those found: svc\n"
    )


def test_the_modules_of_an_app_source_directory(tmp_path, tool_env, site):
    source = tmp_path / "src"
    for path, text in {
        "app.py": "import helpers\n",
        "helpers/__init__.py": "",
        "setup.py": "raise SystemExit('not a module of the app')\n",
        "manage.py": "raise SystemExit('not a module of the app')\n",
        "test_app.py": "raise SystemExit('a test')\n",
        "tests/__init__.py": "raise SystemExit('tests')\n",
        "static/style.css": "",
        "my-script.py": "raise SystemExit('not an identifier')\n",
    }.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(text)
    # Run from elsewhere: the source directory comes first on sys.path for its modules.
    result = smoke(tool_env, tmp_path, "--source", source, "--skip", "helpers")
    assert result.returncode == 0, result.stderr
    assert "imported 1 modules of 0 distributions" in result.stderr.splitlines()[-1]
    (source / "app.py").write_text("raise ValueError('broken app')\n")
    result = smoke(tool_env, tmp_path, "--source", source)
    assert result.returncode == 1
    assert f"import app (from the app's source in {source}) failed: ValueError: broken app" in (
        result.stderr
    )


def test_the_test_command_runs_after_the_imports(tmp_path, tool_env, site):
    install(site, "fine", "1.0", {"fine.py": ""})
    wheels = wheels_of(tmp_path, "fine-1.0-py3-none-any.whl")
    marker = tmp_path / "ran"
    passing = ["--", sys.executable, "-c", f"open({str(marker)!r}, 'w').write(input.__name__)"]
    result = smoke(tool_env, tmp_path, "--wheels", wheels, *passing)
    assert result.returncode == 0, result.stderr
    assert marker.read_text() == "input"

    failing = ["--", sys.executable, "-c", "import sys; sys.exit(input() or 7)"]
    result = smoke(tool_env, tmp_path, "--wheels", wheels, *failing)
    assert result.returncode == 1
    # Its stdin is closed: input() fails at once, with status 1, instead of waiting.
    assert f"the test command {sys.executable} -c" in result.stderr
    assert "exited with status 1" in result.stderr


def test_a_missing_shared_library_names_its_debian_package(tmp_path, tool_env, site):
    """The extension links a library the image lacks; the compile image has it, from a package
    its dpkg database names."""
    built = tmp_path / "built"
    library = gcc(
        built / "libpyslimsmoke.so.1",
        "int smoke(void) { return 1; }\n",
        "-shared",
        "-Wl,-soname,libpyslimsmoke.so.1",
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    extension = gcc(
        site / f"needs_lib{suffix}",
        "int smoke(void);\nint call(void) { return smoke(); }\n",
        "-shared",
        str(library),
    )
    ctypes_user = "import ctypes\nctypes.CDLL('libpyslimnowhere.so.7')\n"
    install(
        site,
        "native",
        "1.0",
        {extension.name: extension.read_bytes(), "uses_ctypes.py": ctypes_user},
    )
    compile_root = tmp_path / "compile"
    libdir = compile_root / "usr/lib" / TRIPLET
    libdir.mkdir(parents=True)
    os.rename(library, libdir / library.name)
    info = compile_root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (info / "libpyslimsmoke1:amd64.list").write_text(f"/usr/lib/{TRIPLET}/libpyslimsmoke.so.1\n")
    (compile_root / "var/lib/dpkg/status").write_text(
        "Package: libpyslimsmoke1\nStatus: install ok installed\nArchitecture: amd64\n"
        "Version: 1.0-1\n"
    )
    wheels = wheels_of(tmp_path, "native-1.0-cp311-cp311-linux_x86_64.whl")
    result = smoke(tool_env, tmp_path, "--wheels", wheels, "--compile-root", compile_root)
    assert result.returncode == 1
    assert (
        "pyslim: smoke test: import needs_lib (from native 1.0) failed: ImportError: "
        "libpyslimsmoke.so.1: cannot open shared object file: No such file or directory"
    ) in result.stderr
    assert (
        "pyslim: smoke test: libpyslimsmoke.so.1 is in Debian package libpyslimsmoke1: add it "
        "to runtime:"
    ) in result.stderr
    assert (
        "pyslim: smoke test: no Debian package of the compile image provides libpyslimnowhere.so.7"
    ) in result.stderr


def test_the_report_says_what_failed_and_the_imports_run_as_the_user(tool_env):
    """With --report the step succeeds and the frontend reads what failed; --user runs the
    imports and the test as that user while the report is written as root."""
    python = "/usr/bin/python3"
    if os.geteuid() != 0 or not os.path.exists(python):
        pytest.skip("switching users needs root, as the build step has, and a system Python")
    # Somewhere the other user can read: pytest's own directory is root's alone.
    with tempfile.TemporaryDirectory(dir="/var/tmp") as where:
        base = pathlib.Path(where)
        base.chmod(0o755)
        site = base / "site"
        install(
            site,
            "whoami",
            "2.0",
            {"whoami.py": "import os\nUID = os.getuid()\nassert UID == 4242, UID\n"},
        )
        install(site, "broken", "1.0", {"broken.py": "raise ValueError('no config')\n"})
        for path in [site, *site.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        wheels = wheels_of(base, "whoami-2.0-py3-none-any.whl", "broken-1.0-py3-none-any.whl")
        report = base / "out" / "smoke.json"
        test = ["--", python, "-c", "import os, sys; sys.exit(os.getuid() - 4242 + 5)"]
        args = ["--wheels", wheels, "--user", "4242:4243", "--report", report, *test]
        env = dict(tool_env, PYTHONPATH=str(site))
        result = run([python, SMOKE, *args], env, cwd=base)
        assert result.returncode == 0, result.stderr
        written = json.loads(report.read_text())
        assert written["modules"] == 1, result.stderr
        assert written["distributions"] == 2
        assert written["test"] == {"status": 5}
        [failure] = written["failures"]
        assert failure["module"] == "broken"
        assert (failure["distribution"], failure["version"]) == ("broken", "1.0")
        assert failure["directory"] == str(wheels)
        assert failure["error"] == "ValueError: no config"
        assert failure["library"] is None and failure["package"] is None
        assert report.stat().st_uid == 0


def test_a_module_of_a_program_that_embeds_python_is_not_a_failure(tmp_path, tool_env, site):
    """uwsgidecorators imports `uwsgi`, which only the uWSGI server provides."""
    install(site, "uWSGI", "2.0.28", {"uwsgidecorators.py": "import uwsgi\n"})
    install(site, "other", "1.0", {"other.py": "import not_there\n"})
    wheels = wheels_of(
        tmp_path, "uWSGI-2.0.28-cp311-cp311-linux_x86_64.whl", "other-1.0-py3-none-any.whl"
    )
    result = smoke(tool_env, tmp_path, "--wheels", wheels)
    assert result.returncode == 1
    assert "uwsgidecorators imports uwsgi, which only the uWSGI server provides" in result.stderr
    assert "import other (from other 1.0) failed: ModuleNotFoundError" in result.stderr
    assert "import uwsgidecorators" not in result.stderr
