"""clamp_times.py: what a step changed gets the epoch as its time; nothing else is touched."""

import os
import subprocess
import sys
import time

import clamp_times
from conftest import SCRIPTS

CLAMP_TIMES = SCRIPTS / "clamp_times.py"
EPOCH = 1_000_000_000
OLD = 900_000_000


def coarse_now():
    return time.clock_gettime_ns(clamp_times.CLOCK_REALTIME_COARSE)


def test_clamps_only_what_changed_since_the_start_and_not_under_mounts(tmp_path):
    root = tmp_path / "root"
    (root / "lower").mkdir(parents=True)
    untouched = root / "lower" / "untouched"
    untouched.write_text("from a lower layer")
    mounted = root / "mnt"
    mounted.mkdir()
    # Until the kernel's clock has moved on: what was made before the step is older than it.
    made = coarse_now()
    while coarse_now() <= made + 20_000_000:
        time.sleep(0.005)
    start = coarse_now()

    (root / "lower" / "new").write_text("made by the step")
    os.symlink("new", root / "lower" / "link")
    (root / "old-enough").write_text("made by the step, with an old time")
    os.utime(root / "old-enough", (OLD, OLD))
    (mounted / "cache").write_text("on a mount")
    before = untouched.stat().st_mtime_ns

    changed, refused = clamp_times.clamp(str(root), start, EPOCH, {str(mounted)})
    assert refused == []
    assert (root / "lower" / "new").stat().st_mtime == EPOCH
    # The directory the step wrote into, and the root, whose entries it changed.
    assert (root / "lower").stat().st_mtime == EPOCH
    assert root.stat().st_mtime == EPOCH
    assert os.lstat(root / "lower" / "link").st_mtime == EPOCH
    # Clamped, not set: a time before the epoch stays.
    assert (root / "old-enough").stat().st_mtime == OLD
    assert untouched.stat().st_mtime_ns == before
    assert (mounted / "cache").stat().st_mtime > EPOCH
    assert changed == 4


def test_reads_mount_points_with_escaped_names(tmp_path):
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "1 0 0:1 / / rw - overlay overlay rw\n"
        "2 1 0:2 / /pyslim-tools ro - tmpfs tmpfs ro\n"
        "3 1 0:3 / /var/cache/my\\040cache rw - ext4 /dev/sda rw\n"
    )
    assert clamp_times.mount_points(str(mountinfo)) == {
        "/pyslim-tools",
        "/var/cache/my cache",
    }


def test_a_failing_command_fails_the_step_and_nothing_is_clamped():
    # Nothing is walked when the command fails: this test must not touch the machine's files.
    result = subprocess.run(
        [sys.executable, "-B", str(CLAMP_TIMES), str(EPOCH), "sh", "-c", "exit 7"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 7
    assert "clamped" not in result.stderr
