"""What the build's scripts share. Each step that runs one mounts this file beside it."""

import os
import re
import sys


def normalize(name):
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run(main, prog, error, status):
    """Exits with what MAIN returns for the command line's arguments. An ERROR it raises is
    the user's to fix, not ours: one line, and exit status STATUS, instead of a traceback."""
    try:
        sys.exit(main(sys.argv[1:]))
    except error as e:
        print(f"pyslim: {prog}: {e}", file=sys.stderr)
        sys.exit(status)


# A requirements file's line that includes another: `-r FILE`, `-rFILE`, `--requirement=FILE`.
INCLUDE = re.compile(r"(-r|--requirement|-c|--constraint)=?(\S*)")


def requirement_lines(path, seen):
    """The logical lines of a requirements file and of those it includes (`-r`, `-c`), without
    comments."""
    path = os.path.abspath(path)
    if path in seen:
        return
    seen.add(path)
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split(" #")[0].split()
        if not words or words[0].startswith("#"):
            continue
        included = INCLUDE.fullmatch(words[0])
        if included:
            name = included.group(2) or (words[1] if len(words) > 1 else "")
            # pip reads a nested file relative to the one that names it.
            yield from requirement_lines(os.path.join(os.path.dirname(path), name), seen)
        else:
            yield words
