//! nixlib, vendored: the one self-contained expression every generated
//! manifest holds (users check in only `nix/ifd-batch.nix`).
//!
//! `nixlib/` is a tree of small files (`import ./nixlib` works from the
//! repository). The vendored text is `nixlib/default.nix` with every
//! `import ./PATH` replaced by `(TEXT)`, TEXT being that file vendored the
//! same way — what `import` evaluates to, written in place. The files are
//! read at compile time (`include_str!`); the text is put together once, on
//! first use. `nixlib/default.nix` stays the one list of the parts: nothing
//! here names them but [`FILES`], and a test checks that every file is used.
//!
//! Why the text means the same as the imports (checked by the tests below):
//! an imported file sees only Nix's global names, and no nixlib file binds
//! one of those, so a part inlined inside another file's scope sees the same
//! names; no vendored file holds another relative path; and the indentation
//! added to an inlined part's lines (and by the manifest, to every line)
//! changes no string, since every string that spans lines is an indented
//! string opening its own line.

use crate::edit::{self, TextEdit};
use crate::syntax::parse;
use rnix::{SyntaxKind::*, SyntaxNode};
use std::sync::LazyLock;

/// A file under `nixlib/`: its path there, and its text.
macro_rules! part {
    ($path:literal) => {
        ($path, include_str!(concat!("../nixlib/", $path)))
    };
}

/// Every file under `nixlib/` that `default.nix` imports, by path relative
/// to `nixlib/`.
const FILES: &[(&str, &str)] = &[
    part!("default.nix"),
    part!("overrideCabal.nix"),
    part!("union.nix"),
    part!("group.nix"),
    part!("batch/default.nix"),
    part!("batch/scope.nix"),
    part!("batch/machine.nix"),
    part!("batch/entries.nix"),
    part!("batch/checks.nix"),
    part!("batch/extract.nix"),
    part!("batch/probe.nix"),
    part!("batch/generators.nix"),
    part!("batch/materialize.nix"),
    part!("batch/interface.nix"),
];

/// The nixlib source vendored into every manifest.
pub static NIXLIB: LazyLock<String> = LazyLock::new(|| vendored("default.nix"));

/// `file` with its imports written in place, recursively. The input is this
/// crate's own, fixed at compile time: a failure here is a bug the tests
/// catch, not a user's error.
fn vendored(file: &str) -> String {
    let text = source(file).unwrap_or_else(|| panic!("nixlib/{file} is not in nixlib::FILES"));
    let root = parse(text).syntax();
    let edits: Vec<TextEdit> = root
        .descendants()
        .filter_map(|node| import_of(&node).map(|rel| (node, rel)))
        .map(|(node, rel)| {
            let target = resolve(file, &rel);
            let range = node.text_range();
            let start = usize::from(range.start());
            let line = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
            let indent: String = line.chars().take_while(|c| *c == ' ').collect();
            TextEdit::replace(
                start..usize::from(range.end()),
                parenthesised(&vendored(&target), &indent),
            )
        })
        .collect();
    edit::apply(text, &edits).unwrap_or_else(|e| panic!("nixlib/{file}: {e}"))
}

fn source(file: &str) -> Option<&'static str> {
    FILES.iter().find(|(f, _)| *f == file).map(|(_, t)| *t)
}

/// `import ./REL` (a literal relative path): REL.
fn import_of(node: &SyntaxNode) -> Option<String> {
    if node.kind() != NODE_APPLY {
        return None;
    }
    let mut kids = node.children();
    let (f, arg) = (kids.next()?, kids.next()?);
    let is_import = f.kind() == NODE_IDENT && f.text() == "import";
    let literal = arg.kind() == NODE_PATH_REL && !arg.children().any(|c| c.kind() == NODE_INTERPOL);
    let text = arg.text().to_string();
    (is_import && literal).then(|| text.strip_prefix("./").unwrap_or(&text).to_string())
}

/// The file `import ./rel` in `from` reads (a directory: its `default.nix`).
fn resolve(from: &str, rel: &str) -> String {
    assert!(
        !rel.split('/').any(|c| c == ".." || c == "."),
        "nixlib/{from}: import ./{rel}: only paths below the importing file's folder"
    );
    let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
    let path = if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    };
    if source(&path).is_some() {
        path
    } else {
        format!("{path}/default.nix")
    }
}

/// `(`, TEXT's lines indented one step more than the import's line, `)`.
fn parenthesised(text: &str, indent: &str) -> String {
    let mut out = String::from("(\n");
    for line in text.trim_end().lines() {
        if !line.is_empty() {
            out.push_str(indent);
            out.push_str("  ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out.push_str(indent);
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nix's global names: what a file sees without binding it.
    const GLOBALS: &[&str] = crate::syntax::scope::NIX_GLOBALS;

    fn tree(text: &str) -> SyntaxNode {
        let p = parse(text);
        assert!(p.errors().is_empty(), "{:?}", p.errors());
        p.syntax()
    }

    #[test]
    fn every_file_is_vendored_once_and_no_import_is_left() {
        let text = &*NIXLIB;
        let root = tree(text);
        assert!(root.descendants().all(|n| import_of(&n).is_none()));
        assert!(
            root.descendants().all(|n| n.kind() != NODE_PATH_REL),
            "a relative path left in the vendored text"
        );
        for (file, part) in FILES {
            let first = part.lines().next().unwrap_or_default();
            assert_eq!(text.matches(first).count(), 1, "nixlib/{file}: {first}");
        }
        // The lines of `default.nix` that import nothing are there as they are.
        assert!(text.starts_with("# ifd-batch's Nix library"));
        assert!(text.contains("  version = \"0.1.0\";\n"));
    }

    #[test]
    fn no_file_binds_a_global_name() {
        for (file, text) in FILES {
            for node in tree(text).descendants() {
                let names: Vec<SyntaxNode> = match node.kind() {
                    // (A pattern entry's second child is its default value.)
                    NODE_IDENT_PARAM | NODE_PAT_ENTRY | NODE_PAT_BIND => {
                        node.first_child().into_iter().collect()
                    }
                    NODE_ATTRPATH_VALUE => node
                        .first_child()
                        .and_then(|p| p.first_child())
                        .into_iter()
                        .collect(),
                    NODE_INHERIT => node.children().filter(|c| c.kind() == NODE_IDENT).collect(),
                    _ => continue,
                };
                for n in names {
                    let name = n.text().to_string();
                    assert!(
                        !GLOBALS.contains(&name.as_str()),
                        "nixlib/{file} binds {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn strings_spanning_lines_are_indented_strings_on_their_own_lines() {
        for (file, text) in FILES {
            for s in tree(text).descendants().filter(|n| n.kind() == NODE_STRING) {
                let t = s.text().to_string();
                let content_has_newline = s
                    .children_with_tokens()
                    .filter_map(|c| c.into_token())
                    .any(|t| t.kind() == TOKEN_STRING_CONTENT && t.text().contains('\n'));
                if content_has_newline {
                    assert!(t.starts_with("''\n"), "nixlib/{file}: {t}");
                }
            }
        }
    }

    #[test]
    fn imports_are_written_in_place() {
        assert_eq!(resolve("default.nix", "batch"), "batch/default.nix");
        assert_eq!(resolve("batch/default.nix", "scope.nix"), "batch/scope.nix");
        assert_eq!(
            parenthesised("# c\nx:\n\ny # c\n", "  "),
            "(\n    # c\n    x:\n\n    y # c\n  )"
        );
    }
}
