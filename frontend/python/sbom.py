"""The image's software bill of materials, from what is installed: an SPDX 2.3 JSON document.

Usage: python sbom.py --out FILE --name NAME [--wheels DIR]... [--app DIR]

Runs in the finished image (slim or minimal), as root, with no network, and reads what is there
rather than what was asked for: every Python distribution the interpreter sees (its name and
version from its metadata; for those pyslim installed, the wheel's file name and sha256 from the
`--wheels` directories, the app's from `--app`), and every Debian package dpkg records
(/var/lib/dpkg/status, or the status.d records a minimal image keeps). The frontend returns the
document as the image's SBOM attestation, so BuildKit runs no scanner of its own.

The document's time is SOURCE_DATE_EPOCH when the build has one, so a reproducible build gives a
reproducible SBOM; its namespace is derived from its content.
"""

import argparse
import datetime
import glob
import hashlib
import importlib.metadata
import json
import os
import re
import sys

# common.py lies beside this script; sys.path has the script's directory first, but not under
# -I, -P or PYTHONSAFEPATH.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d"


def wheels(directories):
    """{normalized name: (file name, sha256, version)} of the wheels in DIRECTORIES."""
    found = {}
    for directory in directories:
        for path in sorted(glob.glob(os.path.join(directory, "*.whl"))):
            name = os.path.basename(path)
            distribution, version = (*name.split("-"), "")[:2]
            digest = hashlib.sha256()
            with open(path, "rb") as wheel:
                for chunk in iter(lambda: wheel.read(1 << 20), b""):
                    digest.update(chunk)
            found[common.normalize(distribution)] = (name, digest.hexdigest(), version)
    return found


def stanzas(text):
    """The fields of each stanza of a dpkg status file."""
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = value.strip()
        if fields.get("Package"):
            yield fields


def debian_packages():
    """(name, version, architecture) of every installed Debian package."""
    texts = []
    if os.path.isfile(DPKG_STATUS):
        with open(DPKG_STATUS, encoding="utf-8", errors="replace") as status:
            texts.append(status.read())
    for record in sorted(glob.glob(os.path.join(DPKG_STATUS_D, "*"))):
        if os.path.isfile(record) and not record.endswith(".md5sums"):
            with open(record, encoding="utf-8", errors="replace") as status:
                texts.append(status.read())
    found = set()
    for text in texts:
        for fields in stanzas(text):
            # status.d records (distroless's) may carry no Status: being there means installed.
            status = fields.get("Status", "install ok installed").split()
            if status[-1:] == ["installed"]:
                found.add(
                    (fields["Package"], fields.get("Version", ""), fields.get("Architecture", ""))
                )
    return sorted(found)


def spdx_id(*parts):
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]+", "-", "-".join(parts))


def document(name, built, app):
    packages, relationships = [], []
    image = spdx_id("image", name)
    packages.append(
        {
            "SPDXID": image,
            "name": name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "primaryPackagePurpose": "CONTAINER",
        }
    )
    seen = set()
    for dist in importlib.metadata.distributions():
        dist_name = dist.metadata["Name"]
        if not dist_name or common.normalize(dist_name) in seen:
            continue
        seen.add(common.normalize(dist_name))
        package = {
            "SPDXID": spdx_id("pypi", dist_name, dist.version),
            "name": dist_name,
            "versionInfo": dist.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:pypi/{common.normalize(dist_name)}@{dist.version}",
                }
            ],
            "primaryPackagePurpose": "LIBRARY",
        }
        wheel = built.get(common.normalize(dist_name)) or app.get(common.normalize(dist_name))
        if wheel and wheel[2] == dist.version:
            package["packageFileName"] = wheel[0]
            package["checksums"] = [{"algorithm": "SHA256", "checksumValue": wheel[1]}]
        if common.normalize(dist_name) in app:
            package["primaryPackagePurpose"] = "APPLICATION"
        packages.append(package)
    for deb, version, arch in debian_packages():
        qualifier = f"?arch={arch}" if arch else ""
        packages.append(
            {
                "SPDXID": spdx_id("deb", deb, version, arch),
                "name": deb,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:deb/debian/{deb}@{version}{qualifier}",
                    }
                ],
                "primaryPackagePurpose": "LIBRARY",
            }
        )
    relationships.append(
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": image,
        }
    )
    for package in packages[1:]:
        relationships.append(
            {
                "spdxElementId": image,
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": package["SPDXID"],
            }
        )
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc)
        if epoch
        else datetime.datetime.now(datetime.timezone.utc)
    )
    content = json.dumps(packages, sort_keys=True).encode()
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://pyslim.dev/spdx/{name}-{hashlib.sha256(content).hexdigest()[:16]}",
        "creationInfo": {
            "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": ["Tool: pyslim"],
        },
        "packages": packages,
        "relationships": relationships,
    }


def main(argv):
    parser = argparse.ArgumentParser(prog="sbom.py")
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--wheels", action="append", default=[])
    parser.add_argument("--app", action="append", default=[])
    args = parser.parse_args(argv)
    result = document(args.name, wheels(args.wheels), wheels(args.app))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1, sort_keys=True)
    print(
        f"pyslim: SBOM of {len(result['packages']) - 1} packages written to {args.out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
