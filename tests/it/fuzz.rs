//! Property tests: scanning never panics, whatever the input.

use ifd_batch::scan::parse_and_detect;
use proptest::prelude::*;

const REWRITE_SEEDS: &[&str] = &[
    include_str!("../../examples/haskell-overlay/overlay.nix"),
    include_str!("../cases/hackage-forms/in/overlay.nix"),
    include_str!("../cases/other-kinds/in/haskell/overlay.nix"),
    include_str!("../cases/with-form/in/overlay.nix"),
    include_str!("../../fixtures/scan/repo/haskell/overlay.nix"),
];

const SEEDS: &[&str] = &[
    include_str!("../../fixtures/scan/repo/haskell/overlay.nix"),
    include_str!("../../fixtures/scan/repo/pkgs/generated.nix"),
    include_str!("../../fixtures/scan/repo/default.nix"),
    include_str!("../../fixtures/scan/repo/lib/versions.nix"),
    include_str!("../../fixtures/scan/shapes/flake.nix"),
    include_str!("../../fixtures/scan/shapes/thunk.nix"),
    include_str!("../../fixtures/scan/shapes/nix/overlay.nix"),
    include_str!("../../fixtures/scan/shapes/lib/assets.nix"),
    include_str!("../../fixtures/scan/shapes/default.nix"),
];

/// Apply byte-level edits (delete, insert, replace) to a seed file, keeping
/// the result a `String` (the scanner's input type after UTF-8 checking).
fn mutate(seed: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    const PIECES: &[&[u8]] = &[
        b"(",
        b")",
        b"{",
        b"}",
        b"\"",
        b"${",
        b"''",
        b";",
        b" ",
        b"\n",
        b"callHackage",
        b"import",
        b"with x;",
        b"let",
        b"in",
        b"#",
        b"/*",
        b":",
        b"@",
        b"./p",
        b"<n>",
        b"\r",
        b"self",
        b"inputs.",
        b"__readFile",
        b"if c then",
    ];
    for &(pos, op, piece) in edits {
        if bytes.is_empty() {
            break;
        }
        let at = pos % bytes.len();
        let p = PIECES[piece as usize % PIECES.len()];
        match op % 3 {
            0 => {
                bytes.remove(at);
            }
            1 => {
                bytes.splice(at..at, p.iter().copied());
            }
            _ => {
                let end = (at + p.len()).min(bytes.len());
                bytes.splice(at..end, p.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,400}") {
        let _ = parse_and_detect(&s, "f.nix");
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let s = String::from_utf8_lossy(&bytes);
        let _ = parse_and_detect(&s, "f.nix");
    }

    #[test]
    fn mutated_fixtures_never_panic(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12),
    ) {
        let text = mutate(SEEDS[seed], &edits);
        if let Ok(found) = parse_and_detect(&text, "f.nix") {
            for site in found.sites {
                // Every reported range lies inside the file, on char boundaries.
                prop_assert!(site.byte_range[0] <= site.byte_range[1]);
                prop_assert!(site.byte_range[1] <= text.len());
                prop_assert!(text.is_char_boundary(site.byte_range[0]));
                prop_assert!(text.is_char_boundary(site.byte_range[1]));
                prop_assert!(site.line >= 1 && site.column >= 1);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]

    /// Random edits of fixture overlays: the rewrite never panics, every
    /// file it would change reparses, and a file that does not parse is
    /// never changed.
    #[test]
    fn rewrite_of_mutated_overlays_reparses_or_leaves_the_file_alone(
        seed in 0..REWRITE_SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..8),
    ) {
        let text = mutate(REWRITE_SEEDS[seed], &edits);
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        std::fs::write(dir.path().join("overlay.nix"), &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let plan = ifd_batch::rewrite::plan(dir.path(), "nix/ifd-batch.nix", &Default::default());
        // Parsed as Nix reads it (a lone carriage return ends a line and a
        // comment), as the scanner does: raw rnix would disagree.
        let nix_parses = |t: &str| parse_and_detect(t, "overlay.nix").is_ok();
        let parses = nix_parses(&text);
        for change in &plan.changes {
            prop_assert!(parses, "a file that does not parse was changed");
            prop_assert!(nix_parses(&change.new), "rewritten file does not parse:\n{}", change.new);
        }
        if let Some(m) = &plan.manifest_new {
            prop_assert!(nix_parses(m));
        }
        if !parses {
            prop_assert!(plan.changes.is_empty());
            prop_assert!(!plan.errors.is_empty());
        }
    }
}

/// rnix stops at 512 levels; the scanner's worker threads get the stack that
/// depth needs (see `scan::WORKER_STACK`), so do the same here.
#[test]
fn deep_nesting_does_not_overflow() {
    let worker = std::thread::Builder::new()
        .stack_size(ifd_batch::scan::WORKER_STACK)
        .spawn(|| {
            for open in [
                "(",
                "[",
                "{ a = ",
                "x: ",
                "let a = 1; in ",
                "a.",
                "f (",
                "\"${",
            ] {
                let text = open.repeat(20_000);
                let _ = parse_and_detect(&text, "deep.nix");
            }
        })
        .expect("spawn");
    assert!(worker.join().is_ok());
}
