"""target_wheels.py's arguments for pip: what it asks for decides what the target gets without
emulation, and what it must never take (a wheel for a newer C library than the target's)."""

import importlib.util

from conftest import SCRIPTS

spec = importlib.util.spec_from_file_location("target_wheels", SCRIPTS / "target_wheels.py")
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
