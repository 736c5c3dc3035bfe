//! `--sbom=true`: the image's SBOM is pyslim's own SPDX document of what it installed, attached
//! as the image's attestation (so BuildKit runs no scanner), and it names exactly what `pip
//! list` and `dpkg-query` report inside the image. On the newest engine, whose containerd image
//! store keeps attestations (the classic store refuses them).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use pyslim_e2e::*;

fn normalise(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

/// Every file of an OCI layout tar, by path.
fn files(tar: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(tar);
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        files.insert(path, data);
    }
    files
}

fn blob(files: &BTreeMap<String, Vec<u8>>, digest: &str) -> serde_json::Value {
    let path = format!("blobs/{}", digest.replace(':', "/"));
    serde_json::from_slice(&files[&path]).expect("a JSON blob")
}

#[test]
fn the_sbom_is_what_the_image_holds() {
    let engine = Engine::newest();
    let dir = copy_example("flask", "sbom-flask");
    use_frontend(&dir, &frontend_in_registry());
    let tar = dir.join("image.oci.tar");
    let out = output(
        engine
            .docker()
            .args(["buildx", "build", "--progress=plain", "--sbom=true"])
            .arg(format!("--output=type=oci,dest={}", tar.display()))
            .arg("-f")
            .arg(dir.join("pyslim.yaml"))
            .arg(&dir),
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("[slim] write the SBOM"), "{log}");
    assert!(
        !log.contains("generating sbom using"),
        "BuildKit ran its own scanner:\n{log}"
    );

    // The index holds the image and its attestation manifest, whose layer is our document.
    let files = files(&std::fs::read(&tar).expect("the OCI tar"));
    let index: serde_json::Value =
        serde_json::from_slice(&files["index.json"]).expect("index.json");
    let top = blob(
        &files,
        index["manifests"][0]["digest"].as_str().expect("digest"),
    );
    let manifests = top["manifests"].as_array().expect("an image index");
    let attestation = manifests
        .iter()
        .find(|m| m["annotations"]["vnd.docker.reference.type"] == "attestation-manifest")
        .expect("an attestation manifest");
    let manifest = blob(&files, attestation["digest"].as_str().expect("digest"));
    let layer = manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .find(|l| l["annotations"]["in-toto.io/predicate-type"] == "https://spdx.dev/Document")
        .expect("an SPDX attestation");
    let statement = blob(&files, layer["digest"].as_str().expect("digest"));
    let image = manifests
        .iter()
        .find(|m| m["platform"]["architecture"] == "amd64")
        .expect("the image");
    // The index ties the attestation to the image (the statement's subject is left to it).
    assert_eq!(
        attestation["annotations"]["vnd.docker.reference.digest"], image["digest"],
        "the attestation is about the image"
    );
    let document = &statement["predicate"];
    assert_eq!(document["spdxVersion"], "SPDX-2.3");
    let purls: BTreeSet<String> = document["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["externalRefs"][0]["referenceLocator"].as_str())
        .map(String::from)
        .collect();
    let flask = document["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "Flask" || p["name"] == "flask")
        .expect("flask");
    assert!(
        flask["packageFileName"]
            .as_str()
            .is_some_and(|f| f.ends_with("py3-none-any.whl")),
        "{flask}"
    );
    assert_eq!(flask["checksums"][0]["algorithm"], "SHA256");

    // What the image itself says it holds: the same, no more, no less.
    let tag = "pyslim-e2e/sbom-flask";
    let out = engine.build_dir(&dir, tag, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pip = run(engine.docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "python",
        tag,
        "-m",
        "pip",
        "list",
        "--format",
        "json",
    ]));
    let pip: serde_json::Value = serde_json::from_str(&pip).expect("pip list JSON");
    let mut expected: BTreeSet<String> = pip
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            format!(
                "pkg:pypi/{}@{}",
                normalise(d["name"].as_str().expect("name")),
                d["version"].as_str().expect("version")
            )
        })
        .collect();
    let debs = run(engine.docker().args([
        "run",
        "--rm",
        "--entrypoint",
        "dpkg-query",
        tag,
        "-W",
        "-f",
        "${db:Status-Status} ${Package} ${Version} ${Architecture}\\n",
    ]));
    expected.extend(debs.lines().filter_map(|line| {
        let [status, name, version, arch] = line.split(' ').collect::<Vec<_>>()[..] else {
            return None;
        };
        (status == "installed").then(|| format!("pkg:deb/debian/{name}@{version}?arch={arch}"))
    }));
    assert_eq!(purls, expected);
    let _ = std::fs::remove_dir_all(&dir);
}
