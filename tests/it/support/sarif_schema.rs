//! The official SARIF 2.1.0 JSON schema, and a validator built from it.
//!
//! The schema is not kept in this repository. It comes from the crates.io
//! package `serde-sarif` (a dev-dependency), whose published source ships the
//! OASIS schema as `src/schema.json` (its build script generates the SARIF
//! types from it). Because it is a dev-dependency, `cargo test` has always
//! downloaded that source before the test runs; this module only finds it:
//!
//! 1. `IFD_BATCH_SARIF_SCHEMA=/path/to/sarif-schema-2.1.0.json`, if set;
//! 2. `cargo metadata --offline` (honours `CARGO_HOME`, vendoring, source
//!    replacement) for the `serde-sarif` package's manifest directory;
//! 3. `$CARGO_HOME/registry/src/*/serde-sarif-<locked version>/`.
//!
//! Validation is fully offline: `jsonschema` is built without its HTTP
//! resolver, the SARIF schema only refers to its own `#/definitions`, and the
//! draft-07 meta-schema is compiled into `jsonschema`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The dev-dependency whose published source contains the schema.
pub const SCHEMA_CRATE: &str = "serde-sarif";
/// Where, inside that crate, the schema is.
pub const SCHEMA_IN_CRATE: &str = "src/schema.json";
/// The title the OASIS schema carries; checked so that a different file at
/// that path (a future crate layout) is not silently used instead.
pub const SCHEMA_TITLE: &str = "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema";

/// The schema's location, and how it was found (for messages).
pub fn locate() -> Result<(PathBuf, &'static str), String> {
    locate_with(true)
}

/// [`locate`], optionally without the `CARGO_HOME` fallback (to test that
/// `cargo metadata` alone finds it).
pub fn locate_with(cargo_home_fallback: bool) -> Result<(PathBuf, &'static str), String> {
    let mut tried = Vec::new();
    if let Some(p) = std::env::var_os("IFD_BATCH_SARIF_SCHEMA") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok((p, "IFD_BATCH_SARIF_SCHEMA"));
        }
        return Err(format!(
            "IFD_BATCH_SARIF_SCHEMA={} is not a file",
            p.display()
        ));
    }
    match via_cargo_metadata() {
        Ok(p) if p.is_file() => return Ok((p, "cargo metadata")),
        Ok(p) => tried.push(format!("cargo metadata: {} is not a file", p.display())),
        Err(e) => tried.push(format!("cargo metadata: {e}")),
    }
    if !cargo_home_fallback {
        return Err(tried.join("; "));
    }
    match via_cargo_home() {
        Ok(p) => return Ok((p, "CARGO_HOME registry")),
        Err(e) => tried.push(format!("CARGO_HOME registry: {e}")),
    }
    Err(format!(
        "the official SARIF 2.1.0 schema was not found (it ships in the `{SCHEMA_CRATE}` \
         dev-dependency as {SCHEMA_IN_CRATE}):\n  {}",
        tried.join("\n  ")
    ))
}

/// The schema, parsed and checked to be the SARIF 2.1.0 one.
pub fn load() -> Result<(PathBuf, Value), String> {
    let (path, _how) = locate()?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut schema: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    check_is_sarif_210(&schema).map_err(|e| format!("{}: {e}", path.display()))?;
    apply_errata(&mut schema);
    Ok((path, schema))
}

/// The 2.1.0 schema's `language` pattern (on `run` and `toolComponent`).
pub const LANGUAGE_PATTERN_2_1_0: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
/// The same pattern as SARIF 2.1.0 Errata 01 corrected it.
pub const LANGUAGE_PATTERN_ERRATA_01: &str = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$";

/// Apply the one correction of SARIF 2.1.0 Errata 01 that a validator needs:
/// the 2.1.0 `language` pattern has a stray `]`, which `jsonschema` rejects
/// when it checks the schema against the draft-07 meta-schema (`format:
/// regex`, ECMA-262 with the `u` flag), so the schema would not compile.
/// Only that exact string is replaced; returns how many were.
pub fn apply_errata(schema: &mut Value) -> usize {
    match schema {
        Value::Object(map) => {
            let mut n = 0;
            for (k, v) in map.iter_mut() {
                if k == "pattern" && v.as_str() == Some(LANGUAGE_PATTERN_2_1_0) {
                    *v = Value::String(LANGUAGE_PATTERN_ERRATA_01.to_string());
                    n += 1;
                } else {
                    n += apply_errata(v);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(apply_errata).sum(),
        _ => 0,
    }
}

/// The schema at hand is the SARIF 2.1.0 one, in a draft we validate with.
pub fn check_is_sarif_210(schema: &Value) -> Result<(), String> {
    let title = schema.get("title").and_then(Value::as_str).unwrap_or("");
    if title != SCHEMA_TITLE {
        return Err(format!("unexpected schema title {title:?}"));
    }
    let id = schema
        .get("$id")
        .or_else(|| schema.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if !id.ends_with("sarif-schema-2.1.0.json") {
        return Err(format!("unexpected schema id {id:?}"));
    }
    let version_enum = schema.pointer("/properties/version/enum");
    if version_enum != Some(&serde_json::json!(["2.1.0"])) {
        return Err(format!("unexpected version enum {version_enum:?}"));
    }
    let draft = schema.get("$schema").and_then(Value::as_str).unwrap_or("");
    if !(draft.contains("draft-07") || draft.contains("draft-04")) {
        return Err(format!("unexpected meta-schema {draft:?}"));
    }
    for def in [
        "run",
        "result",
        "reportingDescriptor",
        "physicalLocation",
        "region",
    ] {
        if schema.pointer(&format!("/definitions/{def}")).is_none() {
            return Err(format!("definition {def:?} missing"));
        }
    }
    Ok(())
}

/// A validator for the schema: its own draft, formats (`uri`, `date-time`,
/// ...) checked, no retrieval of anything outside the document.
pub fn validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    let draft = match schema.get("$schema").and_then(Value::as_str) {
        Some(s) if s.contains("draft-04") => jsonschema::Draft::Draft4,
        _ => jsonschema::Draft::Draft7,
    };
    jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| format!("the SARIF schema does not compile: {e}"))
}

/// Every validation error of `doc`, one line each: where in the document,
/// what is wrong, and which schema keyword says so.
pub fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_string() } else { at };
            format!("at {at}: {e} (schema {})", e.schema_path())
        })
        .collect()
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The host triple, from `rustc -vV`.
fn host_triple() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .ok_or_else(|| "`rustc -vV` printed no host".to_string())
}

fn via_cargo_metadata() -> Result<PathBuf, String> {
    // Offline, the packages of other platforms (never downloaded by a build
    // here) must be left out of the resolve.
    let host = host_triple()?;
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .arg("--manifest-path")
        .arg(manifest_dir().join("Cargo.toml"))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{} ({})", out.status, err.trim()));
    }
    let meta: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let manifest = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == SCHEMA_CRATE)
        .and_then(|p| p["manifest_path"].as_str())
        .ok_or_else(|| format!("no `{SCHEMA_CRATE}` package in the metadata"))?;
    let dir = Path::new(manifest)
        .parent()
        .ok_or("manifest_path has no parent")?;
    Ok(dir.join(SCHEMA_IN_CRATE))
}

fn locked_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(manifest_dir().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{SCHEMA_CRATE}\"")
            && let Some(v) = lines
                .next()
                .and_then(|v| v.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_string());
        }
    }
    Err(format!("`{SCHEMA_CRATE}` is not in Cargo.lock"))
}

fn via_cargo_home() -> Result<PathBuf, String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let version = locked_version()?;
    let src = home.join("registry/src");
    let entries = std::fs::read_dir(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| {
            e.path()
                .join(format!("{SCHEMA_CRATE}-{version}"))
                .join(SCHEMA_IN_CRATE)
        })
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        format!(
            "no {SCHEMA_CRATE}-{version}/{SCHEMA_IN_CRATE} under {}",
            src.display()
        )
    })
}
