//! The `temporis-aivm` binary, run as a process.

use crate::aivm_support::{Lcg, TempDir, random_model};
use std::process::Command;
use temporis_aivm::model::{ModelFiles, verify::make_test_vector};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_temporis-aivm"))
}

fn run(cmd: &mut Command) -> (bool, serde_json::Value, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.success(), serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null), stderr)
}

#[test]
fn verify_infer_pack_unpack() {
    let t = TempDir::new("cli");
    let base = random_model(&[6, 5, 3], 31);
    let input = Lcg(32).i8s(6);
    let tv = make_test_vector(&base, None, &input).unwrap();
    let mut config = base.config().clone();
    config.test_vectors = vec![tv.clone()];
    let files = ModelFiles::encode(&config, &base.weights());
    let md = t.path().join("m");
    files.write(&md).unwrap();

    let (ok, v, err) = run(bin().arg("verify").arg("--model").arg(&md));
    assert!(ok, "{err}");
    assert_eq!(v["model_id"], files.id().to_string());
    assert_eq!(v["test_vectors"], 1);

    let list = input.iter().map(i8::to_string).collect::<Vec<_>>().join(",");
    let (ok, v, err) = run(bin().arg("infer").arg("--model").arg(&md).arg(format!("--input={list}")));
    assert!(ok, "{err}");
    assert_eq!(v["logits"], serde_json::json!(tv.logits));
    assert_eq!(v["output"], serde_json::json!(tv.output));
    assert_eq!(v["argmax"], tv.argmax);
    assert_eq!(v["macs"], 6 * 5 + 5 * 3);

    let f = t.path().join("in.json");
    std::fs::write(&f, serde_json::to_vec(&input).unwrap()).unwrap();
    let (ok, v2, err) = run(bin().arg("infer").arg("--model").arg(&md).arg("--input-file").arg(&f));
    assert!(ok, "{err}");
    assert_eq!(v2["logits"], v["logits"]);

    let (ok, _, err) = run(bin().arg("infer").arg("--model").arg(&md).arg("--input=1,2"));
    assert!(!ok);
    assert!(err.contains("input has 2 values, the model takes 6"), "{err}");

    let p = t.path().join("p");
    let (ok, v, err) =
        run(bin().arg("pack").arg("--dir").arg(&md).arg("--out").arg(&p).arg("--chunk-size=64"));
    assert!(ok, "{err}");
    assert_eq!(v["id"], files.id().to_string());
    let (ok, v, err) = run(bin().arg("unpack").arg("--pack").arg(&p).arg("--out").arg(t.path().join("u")));
    assert!(ok, "{err}");
    assert_eq!(v["id"], files.id().to_string());
    assert_eq!(ModelFiles::read(&t.path().join("u")).unwrap(), files);
}

#[test]
fn verify_reports_the_defect() {
    let t = TempDir::new("cli-bad");
    let base = random_model(&[6, 5, 3], 33);
    let mut config = base.config().clone();
    let mut tv = make_test_vector(&base, None, &Lcg(34).i8s(6)).unwrap();
    tv.logits[1] += 1;
    config.test_vectors = vec![tv];
    ModelFiles::encode(&config, &base.weights()).write(t.path()).unwrap();
    let (ok, _, err) = run(bin().arg("verify").arg("--model").arg(t.path()));
    assert!(!ok);
    assert!(err.contains("test vector 0: logits[1]"), "{err}");
}
