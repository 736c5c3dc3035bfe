"""fetch_wheels.py, run as the build runs it: pip wheel arguments, a wheel cache kept between
runs, and an OUT directory that is new every run (BuildKit gives each run a fresh root
filesystem; only the cache mount carries over)."""

import ast
import hashlib
import io
import json
import shutil
import sys
import tarfile
import textwrap
import zipfile

import pytest

from conftest import FETCH_WHEELS, run, wheels, write_wheel


class Builds:
    """Runs of the step that share one CACHE."""

    def __init__(self, tmp_path, env):
        self.tmp = tmp_path
        self.env = env
        self.cache = tmp_path / "cache"
        self.runs = 0

    def run(self, requirements, *pip_args, check=True, prefix=()):
        self.runs += 1
        out = self.tmp / f"out-{self.runs}"
        listing = self.tmp / f"requirements-{self.runs}.txt"
        listing.write_text("".join(f"{r}\n" for r in requirements))
        args = [*prefix, FETCH_WHEELS, self.cache, out, *pip_args, "--requirement", listing]
        result = run([sys.executable, *args], self.env, check=check)
        return out, result


@pytest.fixture
def builds(tmp_path, env):
    return Builds(tmp_path, env)


def message(wheel):
    """What a test wheel says about itself, to tell two files of one name apart."""
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"{wheel.name.split('-')[0]}/__init__.py").decode()
    return ast.literal_eval(text.split("MESSAGE = ", 1)[1].splitlines()[0])


def local_project(directory, name, version, builds):
    """A project directory whose in-tree build backend needs nothing from an index. Its metadata
    is always there; its wheel only when BUILDS, else building it fails after pip resolved."""
    directory.mkdir(parents=True)
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (directory / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    if builds:
        write_wheel(directory / "built", name, version, message="built here")
    (directory / "backend.py").write_text(
        textwrap.dedent(
            f"""
            import os
            import shutil

            HERE = os.path.dirname(os.path.abspath(__file__))
            INFO = "{name}-{version}.dist-info"


            def get_requires_for_build_wheel(config_settings=None):
                return []


            def prepare_metadata_for_build_wheel(directory, config_settings=None):
                os.makedirs(os.path.join(directory, INFO))
                shutil.copy(os.path.join(HERE, "METADATA"), os.path.join(directory, INFO))
                return INFO


            def build_wheel(directory, config_settings=None, metadata_directory=None):
                built = os.path.join(HERE, "built")
                if not os.path.isdir(built):
                    raise SystemExit("this project does not build")
                name = os.listdir(built)[0]
                shutil.copy(os.path.join(built, name), directory)
                return name
            """
        )
    )
    return directory


def test_out_gets_exactly_the_resolution(tmp_path, builds):
    local = tmp_path / "local"
    write_wheel(local, "alpha", "1.0", requires=["beta"])
    write_wheel(local, "beta", "1.0")
    write_wheel(local, "unrelated", "1.0")
    out, result = builds.run(["alpha"], "--no-index", "--find-links", local)
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]
    assert "2 wheels, 0 reused" in result.stderr


def test_local_and_built_wheels_are_not_cached(tmp_path, builds):
    # Either can change under the same file name, so neither may stand in for a later build.
    local = tmp_path / "local"
    write_wheel(local, "alpha", "1.0")
    project = local_project(tmp_path / "gamma", "gamma", "1.0", builds=True)
    out, _ = builds.run(["alpha", project], "--no-index", "--find-links", local)
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "gamma-1.0-py3-none-any.whl"]
    assert message(out / "gamma-1.0-py3-none-any.whl") == "built here"
    assert wheels(builds.cache) == []


def test_a_failed_build_leaves_no_local_wheel_in_the_cache(tmp_path, builds):
    # pip copies the resolved wheels into its wheel directory before it builds the others.
    local = tmp_path / "local"
    write_wheel(local, "alpha", "1.0")
    project = local_project(tmp_path / "broken", "broken", "1.0", builds=False)
    _, result = builds.run(["alpha", project], "--no-index", "--find-links", local, check=False)
    assert result.returncode != 0, result.stderr
    assert "this project does not build" in result.stderr + result.stdout
    assert wheels(builds.cache) == []


def test_downloads_are_cached_and_reused(index, builds):
    index.publish("alpha", "1.0", requires=["beta"])
    index.publish("beta", "1.0")
    both = ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]
    out, _ = builds.run(["alpha"], "--index-url", index.url)
    assert wheels(out) == both
    assert wheels(builds.cache) == both
    assert index.downloads() == both

    out, result = builds.run(["alpha"], "--index-url", index.url)
    assert wheels(out) == both
    assert index.downloads() == both, "downloaded again"
    assert "2 wheels, 2 reused" in result.stderr


def test_a_removed_requirement_leaves_out_and_stays_cached(index, builds):
    index.publish("alpha", "1.0")
    index.publish("beta", "1.0")
    builds.run(["alpha", "beta"], "--index-url", index.url)
    out, _ = builds.run(["alpha"], "--index-url", index.url)
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl"]
    # Downloaded once, it is there when the requirement comes back.
    assert wheels(builds.cache) == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]


def test_a_local_wheel_replaces_the_cached_one_of_its_name(tmp_path, index, builds):
    # Where the index still has the file, pip takes it from there; where it is gone, from the
    # local directory, and pip would take the cached file for it if it found one.
    downloaded = index.publish("alpha", "1.0", message="from the index")
    builds.run(["alpha"], "--index-url", index.url)
    assert wheels(builds.cache) == ["alpha-1.0-py3-none-any.whl"]
    index.withdraw(downloaded)

    local = tmp_path / "local"
    write_wheel(local, "alpha", "1.0", message="from a local directory")
    out, _ = builds.run(["alpha"], "--index-url", index.url, "--find-links", local)
    assert message(out / "alpha-1.0-py3-none-any.whl") == "from a local directory"
    assert wheels(builds.cache) == []


@pytest.mark.parametrize(
    ("earlier", "now", "chosen"),
    [
        # The pin moves on: the cached alpha 1.0 is no candidate.
        (["alpha==1.0"], ["alpha==2.0"], ["alpha-2.0", "beta-2.0"]),
        # pip tries the newest alpha first, cached from the earlier build, and rejects it: it
        # needs a newer beta than the one now pinned.
        (["alpha==2.0"], ["alpha", "beta==1.0"], ["alpha-1.0", "beta-1.0"]),
        # pip pins the cached alpha 2.0 and beta 2.0, then backtracks from both: gamma needs an
        # older beta.
        (["alpha==2.0"], ["alpha", "gamma"], ["alpha-1.0", "beta-1.0", "gamma-1.0"]),
    ],
)
def test_out_holds_only_the_versions_pip_chose(index, builds, earlier, now, chosen):
    index.publish("alpha", "1.0", requires=["beta"])
    index.publish("alpha", "2.0", requires=["beta>=2"])
    index.publish("beta", "1.0")
    index.publish("beta", "2.0")
    index.publish("gamma", "1.0", requires=["beta<2"])
    builds.run(earlier, "--index-url", index.url)
    cached = wheels(builds.cache)

    out, _ = builds.run(now, "--index-url", index.url)
    names = wheels(out)
    projects = [name.split("-")[0] for name in names]
    assert len(set(projects)) == len(projects), f"two versions of one project: {names}"
    assert names == [f"{c}-py3-none-any.whl" for c in chosen]
    # The rejected wheel was downloaded once, and stays cached.
    assert set(cached) <= set(wheels(builds.cache))


def test_a_pip_without_the_hook_builds_without_the_cache(index, builds):
    # A pip whose RequirementPreparer has no save_linked_requirement, as far as the script can
    # see: pip itself keeps the one it bound at import.
    hide = (
        "import os, runpy, sys\n"
        "import pip._internal.cli.req_command\n"
        "import pip._internal.operations.prepare as prepare\n"
        "prepare.RequirementPreparer = type('RequirementPreparer', (), {})\n"
        "sys.argv = sys.argv[1:]\n"
        "sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as `python SCRIPT` would\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    index.publish("alpha", "1.0", requires=["beta"])
    index.publish("beta", "1.0")
    builds.run(["beta"], "--index-url", index.url)
    assert wheels(builds.cache) == ["beta-1.0-py3-none-any.whl"]

    out, result = builds.run(["alpha"], "--index-url", index.url, prefix=["-c", hide])
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]
    assert wheels(builds.cache) == ["beta-1.0-py3-none-any.whl"]
    assert "cache is not used" in result.stderr


def sha256(path):
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_lock_installs_exactly_its_pins_and_its_unhashed_sources(tmp_path, index, builds):
    # A lock's set: pinned with hashes, no resolution (alpha's dependency is not in it, and is
    # not fetched), and a directory of the project built in a second run without hashes.
    published = index.publish("alpha", "1.0", requires=["beta"])
    index.publish("beta", "1.0")
    project = local_project(tmp_path / "gamma", "gamma", "1.0", builds=True)
    unhashed = tmp_path / "unhashed.txt"
    unhashed.write_text(f"gamma @ file://{project}\n")
    line = f"alpha==1.0 --hash=sha256:{sha256(published)}"
    out, result = builds.run(
        [line],
        "--index-url",
        index.url,
        "--no-deps",
        "--unhashed-requirement",
        unhashed,
    )
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "gamma-1.0-py3-none-any.whl"]
    assert "1 pinned packages, no resolution: 1 wheels downloaded" in result.stderr
    # gamma was built, not downloaded: not kept.
    assert wheels(builds.cache) == ["alpha-1.0-py3-none-any.whl"]


def test_a_lock_is_fetched_without_resolution(index, builds):
    # Only the pins, side by side: alpha's dependency is not in the lock, and is not fetched.
    alpha = index.publish("alpha", "1.0", requires=["beta"])
    index.publish("beta", "1.0")
    delta = index.publish("delta", "2.0")
    lines = [
        f"alpha==1.0 --hash=sha256:{sha256(alpha)}",
        f"Delta==2.0 --hash=sha256:{sha256(delta)}",
    ]
    out, result = builds.run(lines, "--index-url", index.url, "--no-deps")
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "delta-2.0-py3-none-any.whl"]
    assert "2 pinned packages, no resolution: 2 wheels downloaded, 0 reused" in result.stderr
    assert index.downloads() == ["alpha-1.0-py3-none-any.whl", "delta-2.0-py3-none-any.whl"]

    out, result = builds.run(lines, "--index-url", index.url, "--no-deps")
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", "delta-2.0-py3-none-any.whl"]
    assert "0 wheels downloaded, 2 reused" in result.stderr


@pytest.mark.parametrize("kind", ["application/vnd.pypi.simple.v1+json", "text/html"])
def test_a_projects_files_are_read_from_either_kind_of_page(monkeypatch, kind):
    import index as simple

    page = "https://index.example/simple/my-pkg/"
    if kind == "text/html":
        body = (
            '<a href="../../files/my_pkg-1.0-py3-none-any.whl#sha256=aa">w</a>'
            '<a href="https://files.example/my_pkg-1.0.tar.gz#sha256=bb">s</a>'
            '<a href="../../files/unhashed-1.0.tar.gz">no hash</a>'
        )
    else:
        body = json.dumps(
            {
                "files": [
                    {
                        "filename": "my_pkg-1.0-py3-none-any.whl",
                        "url": "../../files/my_pkg-1.0-py3-none-any.whl",
                        "hashes": {"sha256": "aa"},
                    },
                    {
                        "filename": "my_pkg-1.0.tar.gz",
                        "url": "https://files.example/my_pkg-1.0.tar.gz",
                        "hashes": {"sha256": "bb"},
                    },
                    {"filename": "unhashed-1.0.tar.gz", "url": "x", "hashes": {}},
                ]
            }
        )
    asked = []
    monkeypatch.setattr(simple, "read_page", lambda url: asked.append(url) or (kind, body, url))
    files = simple.project_files("https://index.example/simple", "My_Pkg")
    assert asked == [page]  # the PEP 503 name, under the index's URL
    assert files == [
        {
            "name": "my_pkg-1.0-py3-none-any.whl",
            "url": "https://index.example/files/my_pkg-1.0-py3-none-any.whl",
            "hashes": {"sha256": "aa"},
        },
        {
            "name": "my_pkg-1.0.tar.gz",
            "url": "https://files.example/my_pkg-1.0.tar.gz",
            "hashes": {"sha256": "bb"},
        },
    ]


def test_a_lock_goes_to_pip_where_pip_has_settings_of_its_own(index, builds):
    alpha = index.publish("alpha", "1.0")
    builds.env["PIP_FIND_LINKS"] = str(index.root / "files")
    line = f"alpha==1.0 --hash=sha256:{sha256(alpha)}"
    out, result = builds.run([line], "--index-url", index.url, "--no-deps")
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl"]
    assert "pinned packages" not in result.stderr


def test_a_cached_file_that_is_not_the_locked_one_is_fetched_again(index, builds):
    alpha = index.publish("alpha", "1.0", message="the index's")
    builds.cache.mkdir()
    (builds.cache / alpha.name).write_bytes(b"another file of that name")
    line = f"alpha==1.0 --hash=sha256:{sha256(alpha)}"
    out, result = builds.run([line], "--index-url", index.url, "--no-deps")
    assert message(out / alpha.name) == "the index's"
    assert "1 wheels downloaded" in result.stderr


def test_a_pinned_sdist_is_built_by_pip_checking_its_hash(index, builds):
    sdist = write_sdist(index, "withsrc", "1.0")
    line = f"withsrc==1.0 --hash=sha256:{sha256(sdist)}"
    out, result = builds.run([line], "--index-url", index.url, "--no-deps")
    assert message(out / "withsrc-1.0-py3-none-any.whl") == "built from source"
    assert "0 wheels downloaded, 0 reused from earlier builds, 1 built from source" in result.stderr


def test_a_lock_the_index_does_not_match_is_left_to_pip(index, builds):
    index.publish("alpha", "1.0")
    line = f"alpha==1.0 --hash=sha256:{'0' * 64}"
    out, result = builds.run([line], "--index-url", index.url, "--no-deps", check=False)
    assert result.returncode != 0
    assert "no file of alpha 1.0 on the index has the lock's hash" in result.stderr
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr  # pip's own words
    assert wheels(out) == []


def test_a_file_whose_hash_differs_fails_naming_both_hashes(index, builds):
    index.publish("alpha", "1.0")
    wrong = "0" * 64
    _, result = builds.run(
        [f"alpha==1.0 --hash=sha256:{wrong}"], "--index-url", index.url, "--no-deps", check=False
    )
    assert result.returncode != 0
    said = result.stdout + result.stderr
    assert "alpha" in said and wrong in said and "Got" in said, said
    assert wheels(builds.cache) == [], "a file that failed its check stays out of the cache"


def test_the_exit_code_says_what_pip_output_showed():
    import pip_run

    table = [
        ("", 0, 0),
        ("ERROR: No matching distribution found for six==9\n", 1, 1),
        ("lber.h: No such file or directory\n", 1, pip_run.NEEDS_SYSTEM),
        ("    src/x.c:1:10: fatal error: Python.h: No such file\n", 1, pip_run.NEEDS_SYSTEM),
        ("error: command 'gcc' failed with exit code 1\n", 1, pip_run.NEEDS_SYSTEM),
        ("Error: pg_config executable not found.\n", 1, pip_run.NEEDS_SYSTEM),
        (
            "WARNING: Retrying ... Failed to establish a new connection: [Errno 111] "
            "Connection refused')': /simple/six/\n",
            1,
            pip_run.INDEX_UNREACHABLE,
        ),
        ("[Errno -2] Name or service not known\n", 1, pip_run.INDEX_UNREACHABLE),
        ("401 Client Error: Unauthorized for url\n", 1, pip_run.INDEX_UNREACHABLE),
        # A build that failed is told first, whatever else went wrong.
        ("Connection refused\nfatal error: ffi.h: No such file\n", 1, pip_run.NEEDS_SYSTEM),
    ]
    for output, status, code in table:
        assert pip_run.classify(output, status) == code, output


def test_an_index_that_cannot_be_reached_exits_69(builds):
    _, result = builds.run(
        ["six==1.16.0"], "--index-url", "http://127.0.0.1:1/simple", "--retries", "1", check=False
    )
    assert result.returncode == 69, result.stderr


# uv's route: `--uv UV` first, then the same pip arguments.


@pytest.fixture
def uv(tmp_path, builds):
    """The uv the tests of its route run: scripts/test puts the build's on PATH. Its cache is
    the test's own, as the build's is a cache mount."""
    found = shutil.which("uv")
    if found is None:
        pytest.fail("uv is not on PATH: run the tests through scripts/test, which installs it")
    builds.env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    return found


def write_sdist(index, name, version, fails=None):
    """A source distribution only: its in-tree backend needs nothing from the index, and its
    wheel says it was built. With FAILS, building it fails saying that."""
    base = f"{name}-{version}"
    wheel = write_wheel(index.root / "prebuilt", name, version, message="built from source")
    backend = textwrap.dedent(
        f"""
        import os, shutil, sys
        HERE = os.path.dirname(os.path.abspath(__file__))
        def build_wheel(directory, config_settings=None, metadata_directory=None):
            if {fails!r}:
                sys.exit({fails!r})
            shutil.copy(os.path.join(HERE, {wheel.name!r}), directory)
            return {wheel.name!r}
        """
    )
    files = {
        # 2.2 (PEP 643): metadata uv takes as it is, without asking the backend.
        "PKG-INFO": f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        "backend.py": backend,
        wheel.name: wheel.read_bytes(),
    }
    path = index.root / "files" / f"{base}.tar.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for inside, content in files.items():
            data = content if isinstance(content, bytes) else content.encode()
            info = tarfile.TarInfo(f"{base}/{inside}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return index.add(path)


def test_uv_resolves_and_the_wheels_are_downloaded_once(index, builds, uv):
    index.publish("alpha", "1.0", requires=["beta"])
    index.publish("beta", "1.0")
    index.publish("gamma", "1.0")
    both = ["alpha-1.0-py3-none-any.whl", "beta-1.0-py3-none-any.whl"]
    out, result = builds.run(["alpha"], "--uv", uv, "--index-url", index.url)
    assert wheels(out) == both
    assert wheels(builds.cache) == both
    assert "uv resolved 2 packages: 2 wheels downloaded, 0 reused" in result.stderr

    # (This index has no metadata files: uv reads each wheel to resolve, which PyPI spares it.
    # What the script downloads is what its cache did not have.)
    out, result = builds.run(["alpha", "gamma"], "--uv", uv, "--index-url", index.url)
    assert wheels(out) == [*both, "gamma-1.0-py3-none-any.whl"]
    assert wheels(builds.cache) == wheels(out)
    assert "1 wheels downloaded, 2 reused" in result.stderr


def test_uv_builds_what_has_no_wheel_from_its_sdist_once(index, builds, uv):
    index.publish("alpha", "1.0", requires=["withsrc", "other"])
    write_sdist(index, "withsrc", "1.0")
    write_sdist(index, "other", "2.0")
    built = ["other-2.0-py3-none-any.whl", "withsrc-1.0-py3-none-any.whl"]
    out, result = builds.run(["alpha"], "--uv", uv, "--index-url", index.url)
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", *built]
    assert message(out / "withsrc-1.0-py3-none-any.whl") == "built from source"
    assert "pyslim: building withsrc 1.0 from source" in result.stderr
    assert "2 built from source, 0 built by earlier builds" in result.stderr
    # Kept apart from the downloads, by the sdist's hash: a wheel built here may differ from
    # one of the same name built elsewhere.
    assert wheels(builds.cache) == ["alpha-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in builds.cache.glob("built/*/*.whl")) == built

    out, result = builds.run(["alpha"], "--uv", uv, "--index-url", index.url)
    assert wheels(out) == ["alpha-1.0-py3-none-any.whl", *built]
    assert "0 built from source, 2 built by earlier builds" in result.stderr
    assert "pyslim: building" not in result.stderr


def test_a_build_uv_cannot_do_is_left_to_pip(index, builds, uv):
    write_sdist(index, "broken", "1.0", fails="this backend does not build today")
    _, result = builds.run(["broken"], "--uv", uv, "--index-url", index.url, check=False)
    assert result.returncode != 0
    assert "this backend does not build today" in result.stderr
    assert "pyslim: uv could not build broken (above): pip tries" in result.stderr
    assert not list(builds.cache.glob("built/*"))


def test_a_build_that_needs_a_system_package_is_not_tried_again(index, builds, uv):
    write_sdist(index, "needy", "1.0", fails="needy.c:1:10: fatal error: needy.h: No such file")
    _, result = builds.run(["needy"], "--uv", uv, "--index-url", index.url, check=False)
    assert result.returncode == 72  # NEEDS_SYSTEM: the frontend's advice names system:
    assert "fatal error: needy.h" in result.stderr
    assert "pip tries" not in result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "beta==1.0 --hash=sha256:{digest}",
        "-e ./somewhere",
        "--extra-index-url {url}\nbeta",
        "--prefer-binary\nbeta",
    ],
)
def test_what_uv_would_not_take_as_pip_does_is_left_to_pip(index, builds, uv, line):
    wheel = index.publish("beta", "1.0")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    text = line.format(digest=digest, url=index.url)
    out, result = builds.run([text], "--uv", uv, "--index-url", index.url, check=False)
    assert "uv resolved" not in result.stderr
    if not line.startswith("-e"):
        assert wheels(out) == ["beta-1.0-py3-none-any.whl"]
        assert "1 wheels, 0 reused" in result.stderr


def test_a_file_that_is_not_what_the_index_says_fails(index, builds, uv):
    wheel = index.publish("beta", "1.0")
    builds.cache.mkdir()
    real = wheel.read_bytes()
    write_wheel(wheel.parent, "beta", "1.0", message="swapped after the index page was written")
    assert wheel.read_bytes() != real
    _, result = builds.run(["beta"], "--uv", uv, "--index-url", index.url, check=False)
    assert result.returncode == 1
    assert "its SHA-256 is" in result.stderr
    assert wheels(builds.cache) == []


def test_a_download_that_fails_once_is_tried_again(index, builds, uv):
    index.publish("beta", "1.0")
    name = "beta-1.0-py3-none-any.whl"
    # uv reads the wheel once to resolve (this index has no metadata files): the script's first
    # download is the one that fails.
    index.failing[name] = 1
    out, result = builds.run(["beta"], "--uv", uv, "--index-url", index.url)
    assert wheels(out) == [name]
    assert name not in index.failing, "no request failed"
    assert index.downloads().count(name) == 3, index.fetched
    assert "uv resolved 1 packages: 1 wheels downloaded" in result.stderr


def test_a_host_is_looked_up_once_and_a_failed_lookup_again(monkeypatch):
    import socket

    import index as simple

    asked = []

    def resolver(host, port, *rest):
        asked.append(host)
        if host == "flaky.example" and asked.count(host) == 1:
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    simple.remember_lookups()
    for _ in range(3):
        socket.getaddrinfo("files.example", 443, 0, socket.SOCK_STREAM)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("flaky.example", 443, 0, socket.SOCK_STREAM)
    socket.getaddrinfo("flaky.example", 443, 0, socket.SOCK_STREAM)
    socket.getaddrinfo("flaky.example", 443, 0, socket.SOCK_STREAM)
    assert asked == ["files.example", "flaky.example", "flaky.example"]
