"""Builds a wheel holding a shared object that needs a library no Debian package provides, for
the test that the build fails naming the file and the library.

usage: make_elf_wheel.py OUTDIR
Compiles libpyslimnowhere.so.1 (with that soname) and nowhere_ext.cpython-311-x86_64-linux-gnu.so
linked against it, and packs only the latter into pyslim_nowhere-1.0-cp311-cp311-linux_x86_64.whl.
"""

import os
import subprocess
import sys
import tempfile

from make_wheel import pack


def main():
    outdir = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        lib_c = os.path.join(tmp, "nowhere.c")
        with open(lib_c, "w") as f:
            f.write("int pyslim_nowhere(void) { return 42; }\n")
        lib = os.path.join(tmp, "libpyslimnowhere.so.1")
        subprocess.run(
            ["gcc", "-shared", "-fPIC", "-Wl,-soname,libpyslimnowhere.so.1", "-o", lib, lib_c],
            check=True,
        )
        ext_c = os.path.join(tmp, "ext.c")
        with open(ext_c, "w") as f:
            f.write("int pyslim_nowhere(void);\nint call(void) { return pyslim_nowhere(); }\n")
        ext = os.path.join(tmp, "nowhere_ext.cpython-311-x86_64-linux-gnu.so")
        link = ["-Wl,--no-as-needed", "-L", tmp, "-l:libpyslimnowhere.so.1"]
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", ext, ext_c, *link], check=True)
        with open(ext, "rb") as f:
            data = f.read()
    files = {"nowhere_ext.cpython-311-x86_64-linux-gnu.so": data}
    filename, wheel = pack("pyslim-nowhere", "1.0", files, "cp311-cp311-linux_x86_64")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, filename), "wb") as out:
        out.write(wheel)


if __name__ == "__main__":
    main()
