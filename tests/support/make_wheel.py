"""Builds a minimal pure-Python wheel without any build tool, for tests that need a package
no public index has.

usage: make_wheel.py NAME VERSION MESSAGE OUTDIR
The wheel installs a module NAME (with `-` as `_`) whose MESSAGE attribute is MESSAGE.
"""

import base64
import hashlib
import io
import os
import sys
import zipfile


def wheel(name: str, version: str, message: str) -> tuple[str, bytes]:
    module = name.replace("-", "_")
    files = {f"{module}/__init__.py": f"MESSAGE = {message!r}\n".encode()}
    return pack(name, version, files, "py3-none-any")


def pack(name: str, version: str, files: dict, tag: str) -> tuple[str, bytes]:
    """A wheel of FILES (path -> bytes) with its metadata and RECORD: its file name and bytes."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    purelib = "true" if tag.endswith("-none-any") else "false"
    files = dict(files)
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: pyslim-tests\nRoot-Is-Purelib: {purelib}\nTag: {tag}\n"
    ).encode()
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{module}-{version}-{tag}.whl", buffer.getvalue()


if __name__ == "__main__":
    name, version, message, outdir = sys.argv[1:5]
    filename, data = wheel(name, version, message)
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, filename), "wb") as out:
        out.write(data)
    print(filename)
