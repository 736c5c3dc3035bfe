"""What the build's scripts share. Each step that runs one mounts this file beside it."""

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
