//! `ifd-batch scan --format sarif` against the official SARIF 2.1.0 JSON
//! schema (from the `serde-sarif` dev-dependency's published source; see
//! tests/it/support/sarif_schema.rs), offline.
//!
//! A missing schema fails the test: there is no skip.

use crate::support::sarif_schema;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The compiled validator, shared by the tests of this file.
fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let (path, schema) = match sarif_schema::load() {
            Ok(x) => x,
            Err(e) => {
                let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
                panic!(
                    "{e}\n(CI={}; the schema is required: run `cargo fetch` with registry \
                     access, or point IFD_BATCH_SARIF_SCHEMA at sarif-schema-2.1.0.json)",
                    if ci { "true" } else { "unset" }
                );
            }
        };
        sarif_schema::validator(&schema).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

fn assert_valid(doc: &Value, what: &str) {
    let errors = sarif_schema::errors(validator(), doc);
    assert!(
        errors.is_empty(),
        "{what} is not valid SARIF 2.1.0 ({} errors):\n  {}\n--- document\n{}",
        errors.len(),
        errors.join("\n  "),
        serde_json::to_string_pretty(doc).unwrap()
    );
}

/// A small, hand-written SARIF log of the shape the scanner writes.
fn sample() -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ifd-batch",
                "version": "0.1.0",
                "informationUri": "https://example.org/ifd-batch",
                "rules": [{
                    "id": "hackage",
                    "name": "hackage",
                    "shortDescription": { "text": "import-from-derivation site: hackage" },
                    "help": { "text": "callHackage builds a derivation at evaluation time." },
                    "defaultConfiguration": { "level": "warning" }
                }]
            }},
            "originalUriBaseIds": { "SRCROOT": { "uri": "file:///tmp/repo/" } },
            "columnKind": "unicodeCodePoints",
            "results": [{
                "ruleId": "hackage",
                "ruleIndex": 0,
                "level": "warning",
                "message": { "text": "callHackage \"aeson\" \"2.1.2.1\"" },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": "overlay.nix", "uriBaseId": "SRCROOT" },
                    "region": { "startLine": 1, "startColumn": 22, "endLine": 1, "endColumn": 57 }
                }}]
            }],
            "invocations": [{ "executionSuccessful": true, "toolExecutionNotifications": [] }]
        }]
    })
}

#[test]
fn schema_is_the_official_one_and_compiles() {
    let (path, schema) = sarif_schema::load().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        path.ends_with(sarif_schema::SCHEMA_IN_CRATE),
        "{}",
        path.display()
    );
    sarif_schema::check_is_sarif_210(&schema).unwrap();
    let _ = validator();
}

#[test]
fn cargo_metadata_finds_the_schema_crate() {
    if std::env::var_os("IFD_BATCH_SARIF_SCHEMA").is_some() {
        return; // overridden on purpose: the lookup is not used
    }
    let (path, how) = sarif_schema::locate_with(false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(how, "cargo metadata");
    assert!(path.is_file(), "{}", path.display());
}

#[test]
fn errata_01_language_pattern_is_applied_and_enforced() {
    let (_, schema) = sarif_schema::load().unwrap_or_else(|e| panic!("{e}"));
    let text = schema.to_string();
    assert!(!text.contains(&serde_json::to_string(sarif_schema::LANGUAGE_PATTERN_2_1_0).unwrap()));
    assert!(
        text.contains(&serde_json::to_string(sarif_schema::LANGUAGE_PATTERN_ERRATA_01).unwrap())
    );
    let v = validator();
    let mut doc = sample();
    doc["runs"][0]["language"] = json!("en-US");
    assert!(sarif_schema::errors(v, &doc).is_empty());
    doc["runs"][0]["language"] = json!("english");
    assert!(!v.is_valid(&doc), "language \"english\" accepted");
}

#[test]
fn validator_accepts_a_valid_sample() {
    assert_valid(&sample(), "the hand-written sample");
}

/// Turns the valid sample into an invalid document.
type Breaker = fn(&mut Value);

#[test]
fn validator_rejects_invalid_documents() {
    let v = validator();
    let cases: Vec<(&str, Breaker)> = vec![
        ("wrong version", |d| d["version"] = json!("2.0.0")),
        ("no runs' tool", |d| {
            d["runs"][0].as_object_mut().unwrap().remove("tool");
        }),
        ("driver without a name", |d| {
            d["runs"][0]["tool"]["driver"]
                .as_object_mut()
                .unwrap()
                .remove("name");
        }),
        ("startLine 0", |d| {
            d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
                json!(0)
        }),
        ("bad level", |d| {
            d["runs"][0]["results"][0]["level"] = json!("fatal")
        }),
        ("message without text", |d| {
            d["runs"][0]["results"][0]["message"] = json!({})
        }),
        ("unknown top-level property", |d| d["bogus"] = json!(1)),
        ("rule id not a string", |d| {
            d["runs"][0]["tool"]["driver"]["rules"][0]["id"] = json!(7)
        }),
        ("baseline uri not a URI", |d| {
            d["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] = json!("not a uri at all")
        }),
    ];
    assert!(sarif_schema::errors(v, &sample()).is_empty());
    for (what, break_it) in cases {
        let mut doc = sample();
        break_it(&mut doc);
        let errors = sarif_schema::errors(v, &doc);
        assert!(!errors.is_empty(), "{what}: accepted, should be rejected");
        assert!(!v.is_valid(&doc), "{what}");
    }
}

/// Lay out `files` (relative path, contents) under `root`.
fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

const OVERLAY: &str = r#"self: super: { aeson = self.callHackage "aeson" "2.1.2.1" { }; }
"#;
const GENERATED: &str = r#"{ pkgs }:
{
  x = import "${pkgs.runCommand "g" {} "echo"}/default.nix";
}
"#;

fn scan_sarif(root: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ifd-batch"))
        .args(["scan", "--format", "sarif"])
        .arg(root)
        .output()
        .expect("run ifd-batch");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "exit status {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{stdout}"))
}

fn check_scanner_output(dir_name: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(dir_name);
    write_tree(
        &root,
        &[
            ("overlay.nix", OVERLAY),
            ("pkgs/gen/default.nix", GENERATED),
        ],
    );
    let doc = scan_sarif(&root);
    assert_valid(&doc, "the scanner's SARIF output");

    // The same document also deserialises into serde-sarif's typed model.
    let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(doc.clone());
    assert!(
        typed.is_ok(),
        "serde-sarif rejects the output: {:?}",
        typed.err()
    );

    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "ifd-batch");
    let rules = driver["rules"].as_array().expect("rules");
    let rule_ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert!(rule_ids.contains(&"hackage"), "rules: {rule_ids:?}");
    let unique: BTreeSet<&str> = rule_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        rule_ids.len(),
        "one rule per kind: {rule_ids:?}"
    );
    for r in rules {
        let help = r["help"]["text"].as_str().unwrap_or("");
        assert!(!help.trim().is_empty(), "rule without help text: {r}");
    }

    let results = run["results"].as_array().expect("results");
    assert!(results.len() >= 2, "expected both sites: {results:#?}");
    let mut uris = BTreeSet::new();
    for r in results {
        let rule_id = r["ruleId"].as_str().expect("ruleId");
        assert!(rule_ids.contains(&rule_id), "ruleId {rule_id} has no rule");
        if let Some(i) = r["ruleIndex"].as_u64() {
            assert_eq!(rules[i as usize]["id"], rule_id, "ruleIndex of {r}");
        }
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            !uri.starts_with('/') && !uri.contains(':') && !uri.contains('\\'),
            "uri not relative to the scanned root: {uri}"
        );
        uris.insert(uri.to_string());
        let region = &loc["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(
                region[k].as_u64().is_some_and(|n| n >= 1),
                "{k} in {region}"
            );
        }
        let (sl, el) = (region["startLine"].as_u64(), region["endLine"].as_u64());
        assert!(sl <= el, "region ends before it starts: {region}");
    }
    assert_eq!(
        uris,
        BTreeSet::from([
            "overlay.nix".to_string(),
            "pkgs/gen/default.nix".to_string()
        ])
    );
    let hackage = results
        .iter()
        .find(|r| r["ruleId"] == "hackage")
        .expect("a hackage result");
    let loc = &hackage["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "overlay.nix");
    assert_eq!(loc["region"]["startLine"], 1);
    assert!(results[0]["ruleId"].is_string());
}

#[test]
fn scanner_sarif_output_is_valid() {
    check_scanner_output("repo");
}

/// A scanned root and a file whose names need escaping: `originalUriBaseIds`
/// and `artifactLocation.uri` must still be URIs (`file:///.../my%20repo/`,
/// `odd%20name%20%231.nix`), not raw paths (` ` is not allowed in a URI and
/// `#` would start a fragment).
#[test]
fn scanner_sarif_uris_are_percent_encoded() {
    check_scanner_output("my repo");
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("my repo");
    write_tree(&root, &[("odd name #1.nix", OVERLAY)]);
    let doc = scan_sarif(&root);
    assert_valid(&doc, "the scanner's SARIF output");
    let uri = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "odd%20name%20%231.nix");
}
