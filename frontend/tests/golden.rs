//! Golden LLB of every example: spec → plan → LLB, rendered one op per line with its digest.
//! Any change to the graph shows up as a diff of these snapshots.

mod support;

use std::fs;
use std::path::Path;

use pyslim_frontend::llb;

/// Each example built through the real frontend loop against the fake gateway: the graph it
/// solves and the image config it returns are the snapshot.
#[tokio::test]
async fn examples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .expect("examples/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("pyslim.yaml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 3);
    for name in names {
        let files = support::directory(&dir.join(&name));
        let context: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(path, data)| (path.as_str(), data.as_slice()))
            .collect();
        let spec = fs::read_to_string(dir.join(&name).join("pyslim.yaml")).expect("spec");
        let options = [("filename", "pyslim.yaml"), ("platform", "linux/amd64")];
        let (result, recorded) = support::build(&spec, &context, &options).await;
        if let Err(failure) = result {
            panic!("{name}: {failure:?}");
        }
        let definition = recorded.graph();
        for op in &definition.def {
            assert_go_order(op);
        }
        let config = serde_json::to_string_pretty(&recorded.config()).expect("json");
        insta::with_settings!({snapshot_path => "golden", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name.clone(), format!("{}\n{config}\n", llb::render(definition)));
        });
    }
}

/// BuildKit re-encodes every op with Go's deterministic marshalling and digests that: the
/// fields in tag order, but the `op` oneof (tags 2–7) last. Our bytes must be exactly those.
fn assert_go_order(bytes: &[u8]) {
    use prost::Message;
    let op = llb::pb::Op::decode(bytes).expect("an op decodes");
    assert_eq!(llb::encode_op(&op), bytes, "re-encoding changes the op");
    let tags = top_level_tags(bytes);
    let (oneof, rest): (Vec<u64>, Vec<u64>) = tags.iter().partition(|t| (2..=7).contains(*t));
    assert!(rest.is_sorted(), "fields out of order: {tags:?}");
    assert!(oneof.len() <= 1, "more than one op kind: {tags:?}");
    if let Some(kind) = oneof.first() {
        assert_eq!(
            tags.last(),
            Some(kind),
            "the op oneof must come last: {tags:?}"
        );
    }
}

fn top_level_tags(mut bytes: &[u8]) -> Vec<u64> {
    fn varint(bytes: &mut &[u8]) -> u64 {
        let mut value = 0;
        for shift in (0..64).step_by(7) {
            let (byte, rest) = bytes.split_first().expect("truncated varint");
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }
    let mut tags = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes);
        tags.push(key >> 3);
        match key & 7 {
            0 => {
                varint(&mut bytes);
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)).expect("length");
                bytes = &bytes[len..];
            }
            1 => bytes = &bytes[8..],
            5 => bytes = &bytes[4..],
            wire => panic!("unexpected wire type {wire}"),
        }
    }
    tags
}

#[test]
fn go_order_check_catches_prost_order() {
    use prost::Message;
    // The same op in prost's tag order puts the exec (tag 2) before the platform (tag 10).
    let op = llb::pb::Op {
        inputs: vec![],
        platform: Some(llb::pb::Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            ..Default::default()
        }),
        constraints: None,
        op: Some(llb::pb::op::Op::Source(llb::pb::SourceOp {
            identifier: "local://context".into(),
            attrs: Default::default(),
        })),
    };
    let prost_order = op.encode_to_vec();
    assert_ne!(prost_order, llb::encode_op(&op));
    assert_eq!(top_level_tags(&prost_order), [3, 10]);
    assert_eq!(top_level_tags(&llb::encode_op(&op)), [10, 3]);
}
