//! Golden files and trees: compare what a test produced with what is checked
//! in, and on a mismatch show a unified diff (not both files whole). With
//! `IFD_BATCH_BLESS=1` the golden copy is rewritten instead; review the
//! change with `git diff`.

use std::collections::BTreeMap;
use std::path::Path;

/// `IFD_BATCH_BLESS` is set: write golden files instead of comparing.
pub fn blessing() -> bool {
    std::env::var_os("IFD_BATCH_BLESS").is_some()
}

/// A unified diff from `expected` to `actual`, both named `name`.
pub fn diff(name: &str, expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(&format!("{name} (expected)"), &format!("{name} (actual)"))
        .to_string()
}

/// Panics with a unified diff unless the golden file `path` holds `actual`.
pub fn assert_file(path: &Path, actual: &str) {
    if blessing() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with IFD_BATCH_BLESS=1)", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the output (IFD_BATCH_BLESS=1 to update):\n{}",
            path.display(),
            diff(&path.display().to_string(), &expected, actual)
        );
    }
}

/// Compares the tree `actual` (relative name → contents) with the golden
/// directory `dir`: a unified diff per differing file, then the files that
/// are missing. Blessing replaces `dir` by `actual` first.
pub fn compare_tree(dir: &Path, actual: &BTreeMap<String, String>) -> Result<(), String> {
    if blessing() {
        let _ = std::fs::remove_dir_all(dir);
        for (rel, text) in actual {
            let dest = dir.join(rel);
            std::fs::create_dir_all(dest.parent().unwrap_or(dir)).map_err(|e| e.to_string())?;
            std::fs::write(dest, text).map_err(|e| e.to_string())?;
        }
    }
    let expected = read_tree(dir);
    if &expected == actual {
        return Ok(());
    }
    let mut msg = String::new();
    for (k, v) in actual {
        if expected.get(k) != Some(v) {
            let old = expected.get(k).map_or("", String::as_str);
            msg.push_str(&diff(k, old, v));
        }
    }
    for k in expected.keys().filter(|k| !actual.contains_key(*k)) {
        msg.push_str(&format!("missing: {k}\n"));
    }
    Err(msg)
}

/// Every file under `dir`, relative name → contents.
pub fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(
                    rel,
                    std::fs::read_to_string(&p).unwrap_or_else(|e| format!("<{e}>")),
                );
            }
        }
    }
    out
}
