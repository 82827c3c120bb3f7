"""Unit tests of benches/count-calls.py: python3 -m unittest (in benches/)."""

import importlib.util
import os
import subprocess
import tempfile
import unittest

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("count_calls", os.path.join(_here, "count-calls.py"))
cc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cc)


def found(src):
    return [(line, callee) for line, _, callee in cc.calls(src)]


class Calls(unittest.TestCase):
    def test_bare_and_selected(self):
        self.assertEqual(found('callHackage "a" "1" {}'), [(1, "callHackage")])
        self.assertEqual(found('self.callHackage "a" "1" {}'), [(1, "callHackage")])
        self.assertEqual(
            found('pkgs.haskell.packages.ghc96.callCabal2nix "x" ./. {}'), [(1, "callCabal2nix")]
        )

    def test_every_callee(self):
        src = """{
          a = self.callHackageDirect { pkg = "a"; ver = "1"; sha256 = ""; } {};
          b = self.callCabal2nixWithOptions "b" ./b "--no-check" {};
          c = haskell.lib.packageSourceOverrides { c = ./c; };
          d = haskellSrc2nix { name = "d"; src = ./d; };
          e = haskellPackages.developPackage { root = ./.; };
        }"""
        self.assertEqual(
            [c for _, c in found(src)],
            ["callHackageDirect", "callCabal2nixWithOptions", "packageSourceOverrides", "haskellSrc2nix", "developPackage"],
        )

    def test_argument_on_next_line_and_comment_between(self):
        self.assertEqual(found("self.callHackageDirect\n  # pin\n  { pkg = \"x\"; } {}"), [(1, "callHackageDirect")])

    def test_chain_line(self):
        self.assertEqual(cc.calls("x = self\n  .callCabal2nix \"a\" ./a {};"), [(2, 1, "callCabal2nix")])

    def test_comments_left_out(self):
        self.assertEqual(found('# self.callHackage "a" "1" {}\n1'), [])
        self.assertEqual(found('/* self.callHackage "a" "1" {} */ 1'), [])
        self.assertEqual(found('/* a\n b */ callHackage "a" "1" {}'), [(2, "callHackage")])

    def test_strings_left_out(self):
        self.assertEqual(found('"callHackage \\"a\\" x"'), [])
        self.assertEqual(found("''\n  callHackage \"a\" \"1\" {}\n''"), [])
        # # in a string is no comment
        self.assertEqual(found('"#" + callHackage "a" "1" {}'), [(1, "callHackage")])
        # ''$ and ''' escapes, and the string goes on after them
        self.assertEqual(found("'' ''${x} ''' callHackage a ''"), [])

    def test_interpolation_is_code(self):
        self.assertEqual(found('"${(self.callHackage "a" "1" {}).src}"'), [(1, "callHackage")])
        self.assertEqual(found("''\n ${ builtins.toString (callCabal2nix \"a\" ./a {}) }\n''"), [(2, "callCabal2nix")])
        # a set inside an interpolation does not end it early
        self.assertEqual(found('"${ { a = 1; }.a } x" + callHackage "a" "1" {}'), [(1, "callHackage")])

    def test_definitions_left_out(self):
        self.assertEqual(found("{ callHackage = a: b: c; }"), [])
        self.assertEqual(found("let callHackage = f; in 1"), [])
        self.assertEqual(found("{ haskellPackages.callHackage = f; }"), [])
        self.assertEqual(found("{ inherit (self) callHackage callCabal2nix; }"), [])
        self.assertEqual(found("{ inherit callHackage; }"), [])
        self.assertEqual(found("{ callCabal2nix, lib, ... }: 1"), [])
        self.assertEqual(found("{ callCabal2nix ? null }: 1"), [])
        self.assertEqual(found('if self ? callHackage then 1 else 2'), [])
        self.assertEqual(found('if pkgs ? haskellPackages.callHackage then 1 else 2'), [])

    def test_inherit_then_call(self):
        self.assertEqual(
            found("let inherit (self) callHackage; in callHackage \"a\" \"1\" {}"), [(1, "callHackage")]
        )

    def test_formal_default_is_code(self):
        self.assertEqual(found('{ drv ? callCabal2nix "a" ./. {} }: drv'), [(1, "callCabal2nix")])

    def test_not_applied(self):
        self.assertEqual(found("map callHackage xs"), [])
        self.assertEqual(found("f = callHackage;"), [])
        self.assertEqual(found("self.callHackage or null"), [])
        self.assertEqual(found("self.callHackage.override"), [])
        self.assertEqual(found("[ callCabal2nix ]"), [])
        self.assertEqual(found("(callCabal2nix)"), [])
        self.assertEqual(found("callHackage: 1"), [])
        self.assertEqual(found("x: if c then callHackage else f"), [])

    def test_applied_to_names_and_parens(self):
        self.assertEqual(found("pkg: ver: self.callHackage pkg ver {}"), [(1, "callHackage")])
        self.assertEqual(found("self.callCabal2nix name (src) {}"), [(1, "callCabal2nix")])
        self.assertEqual(found("self.callCabal2nix \"a\" ../a {}"), [(1, "callCabal2nix")])
        self.assertEqual(found("developPackage rec { root = ./.; }"), [(1, "developPackage")])

    def test_head_positions(self):
        self.assertEqual(found('dontCheck (self.callHackage "a" "1" {})'), [(1, "callHackage")])
        self.assertEqual(found('with self; callHackage "a" "1" {}'), [(1, "callHackage")])
        self.assertEqual(found('let x = 1; in callHackage "a" "1" {}'), [(1, "callHackage")])
        self.assertEqual(found('if c then callHackage "a" "1" {} else null'), [(1, "callHackage")])
        self.assertEqual(found('[ (callHackage "a" "1" {}) ]'), [(1, "callHackage")])
        self.assertEqual(found('"${x}" + callHackage "a" "1" {}'), [(1, "callHackage")])
        # an argument of another function is passed, not called
        self.assertEqual(found('lib.pipe self.callHackage [ f ]'), [])
        self.assertEqual(found('f "x" callHackage "a"'), [])

    def test_other_names(self):
        self.assertEqual(found('callHackageX "a"; mycallHackage "b"; callPackage ./a {}'), [])

    def test_uri_and_path_are_not_code(self):
        self.assertEqual(found("x = https://example.org/callHackage; y = ./callHackage/x;"), [])

    def test_multiple_on_a_line(self):
        self.assertEqual(
            found('{ a = callHackage "a" "1" {}; b = callHackage "b" "2" {}; }'),
            [(1, "callHackage"), (1, "callHackage")],
        )


class Files(unittest.TestCase):
    def test_git_tracked_nix_files_only(self):
        with tempfile.TemporaryDirectory() as d:
            def write(name, text):
                os.makedirs(os.path.dirname(os.path.join(d, name)) or d, exist_ok=True)
                with open(os.path.join(d, name), "w") as f:
                    f.write(text)

            write("a.nix", 'self.callHackage "a" "1" {}\n')
            write("sub/b.nix", '\n\nself.callCabal2nix "b" ./. {}\n')
            write("untracked.nix", 'self.callHackage "u" "1" {}\n')
            write("c.txt", 'self.callHackage "c" "1" {}\n')
            subprocess.run(["git", "init", "-q", d], check=True)
            subprocess.run(["git", "-C", d, "add", "a.nix", "sub/b.nix", "c.txt"], check=True)
            n, calls = cc.count(d)
            self.assertEqual(n, 2)
            self.assertEqual([(c["file"], c["line"]) for c in calls], [("a.nix", 1), ("sub/b.nix", 3)])


if __name__ == "__main__":
    unittest.main()
