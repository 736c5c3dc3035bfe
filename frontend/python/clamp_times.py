"""Run a build step's command, then clamp the times of what it made or changed.

Usage: python3 -B clamp_times.py SECONDS COMMAND [ARGS...]

A layer's tar holds each file's mtime, and a step writes the time it ran: the same step on the
same inputs would make a layer of other bytes at every clean build. After COMMAND succeeds,
every file, directory and symlink whose inode changed while it ran gets SECONDS (since 1970) as
its times, if it had a later one: what the step left becomes a function of what it did, not of
when. Engines whose exporter rewrites layer times (`rewrite-timestamp`) do the same at export,
but only when the client asks for it; this works on every engine, for every exporter.

What COMMAND did not touch is not touched here: setting a time on a file of a lower layer would
copy it up, into this step's layer. So only inodes whose change time is not before the start of
the command are clamped. Mount points (this script's own directory, /tmp, caches, the files
BuildKit binds over /etc) are skipped with everything below them: they are no part of the layer.
"""

import os
import re
import subprocess
import sys
import time

# The kernel stamps inodes from its coarse clock, which may lag the precise one by a tick: the
# start is read from the same clock, or a file changed at once could seem older than the start.
CLOCK_REALTIME_COARSE = 5


def mount_points(mountinfo="/proc/self/mountinfo"):
    """Every mount point but the root, as paths."""
    points = set()
    with open(mountinfo) as lines:
        for line in lines:
            # The fifth field, with spaces and the like escaped as octal (\\040).
            path = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if path != "/":
                points.add(path)
    return points


def clamp(root, start_ns, epoch, skip):
    """Clamps what changed under ROOT since START_NS to EPOCH: the number of inodes changed,
    and the paths whose times could not be set (a non-root step's files it does not own)."""
    epoch_ns = epoch * 1_000_000_000
    changed, refused = 0, []

    def visit(path):
        nonlocal changed
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if st.st_ctime_ns < start_ns or st.st_mtime_ns <= epoch_ns:
            return
        try:
            os.utime(path, ns=(epoch_ns, epoch_ns), follow_symlinks=False)
            changed += 1
        except PermissionError:
            refused.append(path)

    visit(root)
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(directory, d) not in skip]
        for name in dirs + files:
            path = os.path.join(directory, name)
            if path not in skip:
                visit(path)
    return changed, refused


def main():
    epoch, command = int(sys.argv[1]), sys.argv[2:]
    start_ns = time.clock_gettime_ns(CLOCK_REALTIME_COARSE)
    status = subprocess.call(command)
    if status:
        sys.exit(status)
    skip = mount_points() | {"/proc", "/sys", "/dev"}
    began = time.monotonic()
    changed, refused = clamp("/", start_ns, epoch, skip)
    took = time.monotonic() - began
    print(f"pyslim: clamped {changed} paths to {epoch} in {took:.2f}s", file=sys.stderr)
    if refused:
        print(
            f"pyslim: could not clamp the times of {len(refused)} paths this step's user does not "
            f"own (the layer keeps their build times), e.g. {refused[0]}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
