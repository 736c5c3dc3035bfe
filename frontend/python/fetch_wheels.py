"""Build the wheel of every dependency into OUT, reusing the wheels earlier builds downloaded.

Usage: python fetch_wheels.py CACHE OUT [--uv UV] PIP-WHEEL-ARGUMENTS...

Three routes, the first that can take the arguments doing the run:
- with `--uv UV`, uv resolves and the wheels are downloaded side by side (`uv_route.py`);
- a lock's pins are downloaded side by side with no resolution at all (`lock_route.py`);
- pip does it all, as described here. The modules beside this one: `index.py` (the index read
  and downloaded from directly), `pip_run.py` (pip run in this process, the exit codes).

`--unhashed-requirement FILE` among the arguments (a lock's git and directory sources, which pip
cannot hash) is built by a second pip run with the same options and only that file: pip checks
the hashes of every requirement of a run or of none.

pip resolves against the index as always, and skips the download of a file its wheel directory
already holds under the same name (a file on an index never changes under its name). So CACHE,
as pip's wheel directory, is a download cache that works without HTTP cache headers, which many
package proxies do not send.

OUT gets the wheels of pip's resolution and no others. Which files pip opened in CACHE does not
tell them: CACHE holds the wheels of earlier builds too, and pip reads some only to reject them
(it tries the cached foo 2.0, finds that it needs a newer bar than the one pinned, and goes back
to foo 1.0). pip hands each wheel it chose, and only those, to one method that copies it into
the wheel directory unless it is there already, `RequirementPreparer.save_linked_requirement`:
wrapped, it names each one and the file pip took it from. The wheels pip built from source it
copies there itself: those are the files it writes there, seen through Python's audit hook.

CACHE keeps only what pip downloaded, the files it took from its `pip-unpack-*` directory, even
when pip fails. A wheel built here, or taken from a local directory, can change under the same
name, so it must not stand in for a later one; a local directory's wheels also replace
same-named cached ones, which pip would otherwise take in their place.

Both are pip internals, the same from pip 20.3 to 26.3. If pip renames that directory, nothing is
cached; if it drops that method, pip builds straight into OUT without the cache. Either is
slower, and nothing goes wrong.

When pip fails, the exit code says what its output showed (see `pip_run.py`).
"""

import os
import shutil
import sys

from index import remember_lookups
from lock_route import fetch_pinned
from pip_run import pip, split_unhashed, without_requirements
from uv_route import fetch_with_uv


def main():
    cache, out, all_args = sys.argv[1], sys.argv[2], sys.argv[3:]
    remember_lookups()
    if all_args[:1] == ["--uv"]:
        uv, all_args = all_args[1], all_args[2:]
        status = fetch_with_uv(uv, cache, out, all_args)
        if status is not None:
            sys.exit(status)
    pip_args, unhashed = split_unhashed(all_args)
    status = fetch_pinned(cache, out, pip_args)
    if status is not None:
        # What has no hash (a git commit, a directory) is built, never a download to keep.
        for path in unhashed if not status else []:
            status = pip(["wheel", "--wheel-dir", out, *without_requirements(pip_args), "-r", path])
            if status:
                break
        sys.exit(status)
    runs = [pip_args] + [
        [*without_requirements(pip_args), "--requirement", path] for path in unhashed
    ]
    try:
        from pip._internal.operations.prepare import RequirementPreparer

        save = RequirementPreparer.save_linked_requirement
    except (ImportError, AttributeError):
        print(
            "pyslim: this pip does not say which wheels it chose: the wheel cache is not used",
            file=sys.stderr,
        )
        for args in runs:
            status = pip(["wheel", "--wheel-dir", out, *args])
            if status:
                sys.exit(status)
        sys.exit(0)

    for option, value in zip(pip_args, pip_args[1:]):
        if option in ("--find-links", "-f") and os.path.isdir(value):
            for name in os.listdir(value):
                cached = os.path.join(cache, name)
                if name.endswith(".whl") and os.path.exists(cached):
                    os.remove(cached)

    chosen = {}  # file name -> the file pip took it from
    written = set()

    def save_linked_requirement(preparer, req):
        save(preparer, req)
        if req.link.is_wheel and req.local_file_path:
            chosen[req.link.filename] = req.local_file_path

    cache_dir = os.path.realpath(cache)

    def record(event, args):
        if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        path = os.path.abspath(os.fsdecode(os.fspath(args[0])))
        if not path.endswith(".whl") or os.path.realpath(os.path.dirname(path)) != cache_dir:
            return
        mode, flags = args[1], args[2]
        if isinstance(mode, str):
            writes = any(c in mode for c in "wax+")
        else:
            writes = bool(flags & (os.O_WRONLY | os.O_RDWR))
        if writes:
            written.add(os.path.basename(path))

    RequirementPreparer.save_linked_requirement = save_linked_requirement
    sys.addaudithook(record)
    status = 0
    for args in runs:
        status = pip(["wheel", "--wheel-dir", cache, *args])
        if status:
            break

    wheels = sorted(written.union(chosen))
    if not status:
        os.makedirs(out, exist_ok=True)
        for name in wheels:
            shutil.copy2(os.path.join(cache, name), os.path.join(out, name))
    downloaded = {
        name
        for name, source in chosen.items()
        if os.path.basename(os.path.dirname(source)).startswith("pip-unpack-")
    }
    for name in written - downloaded:
        # A write that failed (pip says why) left no file.
        if os.path.exists(os.path.join(cache, name)):
            os.remove(os.path.join(cache, name))
    if status:
        sys.exit(status)
    reused = len(set(chosen) - written)
    print(f"pyslim: {len(wheels)} wheels, {reused} reused from earlier builds", file=sys.stderr)


if __name__ == "__main__":
    main()
