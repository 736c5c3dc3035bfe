"""backend.py metadata, run as the build runs it: on a project directory that holds only its
metadata files, with this machine's setuptools as the build backend."""

import os
import sys
import textwrap
import zipfile

import pytest

from conftest import BACKEND, run


@pytest.fixture
def backend_env(env):
    """The build step's PYTHONPATH holds setuptools and `wheel`, which setuptools before 70.1
    needs for its metadata: here, the `wheel` scripts/test installs beside pytest."""
    try:
        import wheel
    except ImportError:
        pytest.fail("wheel is not importable: run the tests through scripts/test")
    return {**env, "PYTHONPATH": os.path.dirname(os.path.dirname(wheel.__file__))}


def project(directory, files):
    directory.mkdir()
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return directory


def metadata(tmp_path, env, files, check=True):
    root = project(tmp_path / "project", files)
    out = tmp_path / "out"
    result = run([sys.executable, BACKEND, "metadata", root, out], env, check=check)
    written = out / "requirements.txt"
    return result, written.read_text().splitlines() if written.exists() else None


def build_wheel(tmp_path, env, files):
    """Builds the project of FILES with `backend.py wheel`: the run, and the directory of wheels."""
    root = project(tmp_path / "project", files)
    out = tmp_path / "wheels"
    return run([sys.executable, BACKEND, "wheel", root, out], env), out


def test_a_setup_py_without_its_package_directory(tmp_path, backend_env):
    # The package directory is not there, as it is not in the build step: its files would
    # make a code edit rerun the step.
    _, found = metadata(
        tmp_path,
        backend_env,
        {
            "setup.py": """
                from setuptools import setup
                setup(
                    name="svc",
                    version="1",
                    packages=["svc"],
                    install_requires=["six==1.16.0", 'tomli>=2; python_version < "3.11"'],
                    extras_require={"dev": ["pytest"]},
                    entry_points={"console_scripts": ["svc = svc:main"]},
                )
            """
        },
    )
    # Markers stay for pip to judge; the extra's requirement is not asked for.
    assert found == ["six==1.16.0", 'tomli>=2; python_version < "3.11"']


def test_a_pyproject_with_dynamic_dependencies(tmp_path, backend_env):
    _, found = metadata(
        tmp_path,
        backend_env,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=61"]
                build-backend = "setuptools.build_meta"
                [project]
                name = "svc"
                version = "1"
                dynamic = ["dependencies"]
                [tool.setuptools]
                py-modules = ["svc"]
            """,
            "setup.py": """
                from setuptools import setup
                setup(install_requires=["click==8.1.7"])
            """,
        },
    )
    assert found == ["click==8.1.7"]


def test_no_dependencies_is_an_empty_file(tmp_path, backend_env):
    _, found = metadata(
        tmp_path,
        backend_env,
        {"setup.py": "from setuptools import setup\nsetup(name='svc', version='1')\n"},
    )
    assert found == []


def test_a_setup_py_that_reads_a_file_not_there_fails(tmp_path, backend_env):
    result, found = metadata(
        tmp_path,
        backend_env,
        {
            "setup.py": """
                from setuptools import setup
                setup(name="svc", version="1", long_description=open("README.md").read())
            """
        },
        check=False,
    )
    assert result.returncode != 0
    assert "README.md" in result.stderr
    assert found is None


def test_a_backend_without_the_metadata_hook_is_named(tmp_path, backend_env):
    result, found = metadata(
        tmp_path,
        backend_env,
        {
            "pyproject.toml": """
                [build-system]
                requires = []
                build-backend = "only_wheels"
                backend-path = ["backend"]
            """,
            "backend/only_wheels.py": "def build_wheel(directory, settings=None):\n    pass\n",
        },
        check=False,
    )
    assert result.returncode != 0
    assert "only_wheels" in result.stderr
    assert "prepare_metadata_for_build_wheel" in result.stderr
    assert found is None


def test_a_wheel_is_built_as_pip_would_build_it(tmp_path, backend_env):
    """The app's wheel: built by the backend's hook in the project's directory, into OUT, with
    the project's code and its declared dependencies."""
    result, out = build_wheel(
        tmp_path,
        backend_env,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["setuptools>=61"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "hello"
                version = "0.2.0"
                dependencies = ["flask>=3"]
            """,
            "hello/__init__.py": "GREETING = 'hi'\n",
        },
    )
    built = sorted(p.name for p in out.iterdir())
    assert built == ["hello-0.2.0-py3-none-any.whl"]
    assert "built hello-0.2.0-py3-none-any.whl" in result.stdout
    with zipfile.ZipFile(out / built[0]) as wheel:
        assert wheel.read("hello/__init__.py") == b"GREETING = 'hi'\n"
        assert "Requires-Dist: flask>=3" in wheel.read("hello-0.2.0.dist-info/METADATA").decode()


def test_a_backend_path_backend_builds_the_wheel(tmp_path, env):
    """An in-tree backend (`backend-path`) is imported from the project itself."""
    _, out = build_wheel(
        tmp_path,
        env,
        {
            "pyproject.toml": """
                [build-system]
                requires = []
                build-backend = "mybackend"
                backend-path = ["tools"]
            """,
            "tools/mybackend.py": """
                import os, zipfile

                def build_wheel(out, config_settings=None, metadata_directory=None):
                    name = "tiny-1.0-py3-none-any.whl"
                    with zipfile.ZipFile(os.path.join(out, name), "w") as wheel:
                        wheel.writestr("tiny.py", open("source.txt").read())
                    return name
            """,
            "source.txt": "X = 1\n",
        },
    )
    with zipfile.ZipFile(out / "tiny-1.0-py3-none-any.whl") as wheel:
        assert wheel.read("tiny.py") == b"X = 1\n"


def test_an_unknown_command_prints_the_usage(tmp_path, env):
    result = run([sys.executable, BACKEND, "sdist", tmp_path, tmp_path], env, check=False)
    assert result.returncode != 0
    assert "Usage: python backend.py metadata" in result.stderr
