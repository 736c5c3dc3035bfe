"""sbom.py, run as the build runs it: the distributions the interpreter sees, with the wheels
pyslim installed them from, and this machine's Debian packages, as an SPDX 2.3 document."""

import hashlib
import json
import subprocess
import sys

import sbom
from conftest import SBOM, run, write_wheel


def test_the_document_names_every_distribution_and_debian_package(tmp_path, tool_env):
    site = tmp_path / "site"
    info = site / "greeter-1.2.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greeter\nVersion: 1.2\n")
    (info / "RECORD").write_text("")
    wheels = tmp_path / "wheels"
    wheel = write_wheel(wheels, "greeter", "1.2")
    out = tmp_path / "report" / "sbom.json"
    environment = {**tool_env, "PYTHONPATH": str(site), "SOURCE_DATE_EPOCH": "1700000000"}
    run([sys.executable, SBOM, "--out", out, "--name", "image", "--app", wheels], environment)
    document = json.loads(out.read_text())
    assert document["spdxVersion"] == "SPDX-2.3"
    assert document["creationInfo"]["created"] == "2023-11-14T22:13:20Z"
    packages = {p["name"]: p for p in document["packages"]}
    greeter = packages["greeter"]
    assert greeter["versionInfo"] == "1.2"
    assert greeter["primaryPackagePurpose"] == "APPLICATION"
    assert greeter["packageFileName"] == wheel.name
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert greeter["checksums"] == [{"algorithm": "SHA256", "checksumValue": digest}]
    purl = greeter["externalRefs"][0]["referenceLocator"]
    assert purl == "pkg:pypi/greeter@1.2"
    # Every Debian package dpkg-query lists here, with its version and architecture.
    listed = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture}\n"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    debs = {
        p["externalRefs"][0]["referenceLocator"]
        for p in document["packages"]
        if p["SPDXID"].startswith("SPDXRef-deb-")
    }
    expected = {
        f"pkg:deb/debian/{name}@{version}?arch={arch}"
        for status, name, version, arch in (line.split(" ") for line in listed)
        if status == "installed"
    }
    assert debs == expected
    # The image contains them all.
    contained = {
        r["relatedSpdxElement"]
        for r in document["relationships"]
        if r["relationshipType"] == "CONTAINS"
    }
    assert contained == {p["SPDXID"] for p in document["packages"][1:]}


def test_distroless_records_count_as_installed():
    text = (
        "Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n\n"
        "Package: gone\nStatus: deinstall ok config-files\n"
    )
    found = [(f["Package"], f.get("Status", "install ok installed")) for f in sbom.stanzas(text)]
    assert found == [("libc6", "install ok installed"), ("gone", "deinstall ok config-files")]
