"""Build the wheel of every dependency into OUT, reusing the wheels earlier builds downloaded.

Usage: python fetch_wheels.py CACHE OUT PIP-WHEEL-ARGUMENTS...

pip resolves against the index as always, and skips the download of a file its wheel directory
already holds under the same name (a file on an index never changes under its name). So CACHE,
as pip's wheel directory, is a download cache that works without HTTP cache headers, which many
package proxies do not send. What pip did there is seen through Python's audit hook:
- OUT gets the wheels this resolution chose, the ones pip opened or wrote in CACHE: CACHE also
  holds the wheels of earlier builds;
- CACHE keeps only what pip downloaded (copied out of its `pip-unpack-*` directory). A wheel
  built here, or taken from a local directory, can change under the same name, so it must not
  stand in for a later one; a local directory's wheels also replace same-named cached ones.
If pip ever changes how it names that directory, nothing is cached; nothing goes wrong.
"""

import os
import runpy
import shutil
import sys

cache, out, pip_args = sys.argv[1], sys.argv[2], sys.argv[3:]
cache_dir = os.path.realpath(cache)

for option, value in zip(pip_args, pip_args[1:]):
    if option in ("--find-links", "-f") and os.path.isdir(value):
        for name in os.listdir(value):
            cached = os.path.join(cache, name)
            if name.endswith(".whl") and os.path.exists(cached):
                os.remove(cached)

chosen, written, downloaded = set(), set(), set()
last_read = ""


def record(event, args):
    global last_read
    if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(os.fspath(args[0])))
    if not path.endswith(".whl"):
        return
    mode, flags = args[1], args[2]
    if isinstance(mode, str):
        writes = any(c in mode for c in "wax+")
    else:
        writes = bool(flags & (os.O_WRONLY | os.O_RDWR))
    if os.path.realpath(os.path.dirname(path)) != cache_dir:
        if not writes:
            last_read = path
        return
    name = os.path.basename(path)
    chosen.add(name)
    if writes:
        written.add(name)
        # shutil.copy reads its source just before it writes here.
        source_dir = os.path.basename(os.path.dirname(last_read))
        if source_dir.startswith("pip-unpack-") and os.path.basename(last_read) == name:
            downloaded.add(name)


sys.addaudithook(record)
sys.argv = ["pip", "wheel", "--wheel-dir", cache, *pip_args]
try:
    runpy.run_module("pip", run_name="__main__", alter_sys=True)
except SystemExit as exit:
    if exit.code:
        raise

os.makedirs(out, exist_ok=True)
for name in sorted(chosen):
    shutil.copy2(os.path.join(cache, name), os.path.join(out, name))
for name in written - downloaded:
    os.remove(os.path.join(cache, name))
reused = len(chosen - written)
print(f"pyslim: {len(chosen)} wheels, {reused} reused from earlier builds", file=sys.stderr)
