"""Measures one image against the slim base from `docker save` tars: what its layers add,
read from the layers, not assumed.

usage: measure.py IMAGE_TAR BASE_TAR
Prints JSON with, for the layers the image adds on top of the base (all of them, for an image
not built on the base): `added_bytes` (regular files, every version of each, as the layers
store them), `wheel_bytes` and `cache_bytes` (wheel files and installer caches in any added
layer), `layers_added`, and `payload_bytes`: the installed dependency tree and runtime
libraries, i.e. the final files listed by an added dist's RECORD or an added dpkg package's file
list, with the bytecode of every listed source. `added_bytes - payload_bytes` is the overhead
over the floor.
"""

import json
import os
import sys
import tarfile

CACHE_MARKS = ("/.cache/pip/", "/.cache/uv/", "/var/cache/pyslim/", "/var/lib/apt/lists/")


def manifest(path):
    with tarfile.open(path) as outer:
        return json.load(outer.extractfile("manifest.json"))[0]["Layers"]


def measure(path, base_path):
    base = manifest(base_path)
    ours = manifest(path)
    skip = len(base) if ours[: len(base)] == base else 0
    result = {"added_bytes": 0, "wheel_bytes": 0, "cache_bytes": 0, "layers_added": len(ours) - skip}
    final = {}
    records, dpkg_lists = [], []
    outer = tarfile.open(path)
    for name in ours[skip:]:
        layer = tarfile.open(fileobj=outer.extractfile(name))
        for member in layer.getmembers():
            file = member.name.lstrip("./")
            base_name = os.path.basename(file)
            if base_name.startswith(".wh."):
                final.pop(os.path.join(os.path.dirname(file), base_name[4:]), None)
                continue
            if not member.isfile():
                continue
            result["added_bytes"] += member.size
            if file.endswith(".whl"):
                result["wheel_bytes"] += member.size
            rooted = "/" + file
            if any(mark in rooted for mark in CACHE_MARKS) or (
                rooted.startswith("/var/cache/apt/archives/") and file.endswith(".deb")
            ):
                result["cache_bytes"] += member.size
            final[file] = member.size
            if file.endswith(".dist-info/RECORD"):
                records.append((file, layer.extractfile(member).read().decode(errors="replace")))
            if file.startswith("var/lib/dpkg/info/") and file.endswith(".list"):
                dpkg_lists.append(layer.extractfile(member).read().decode(errors="replace"))
    owned = set()
    for record_path, text in records:
        site = os.path.dirname(os.path.dirname(record_path))
        for line in text.splitlines():
            entry = line.rsplit(",", 2)[0]
            if entry:
                owned.add(os.path.normpath(os.path.join(site, entry)))
    for text in dpkg_lists:
        owned.update(line.strip().lstrip("/") for line in text.splitlines() if line.strip())
    # Bytecode belongs to its source whether or not the installer listed it (pip lists it in
    # RECORD, uv does not).
    for file in final:
        directory, name = os.path.split(file)
        if os.path.basename(directory) == "__pycache__" and name.endswith(".pyc"):
            source = os.path.join(os.path.dirname(directory), name.split(".")[0] + ".py")
            if source in owned:
                owned.add(file)
    result["payload_bytes"] = sum(size for file, size in final.items() if file in owned)
    return result


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
