#!/usr/bin/env python3
"""Count literal calls of the Haskell IFD callees in a repository, by text.

The independent denominator of benches/corpus.sh: it shares nothing with
ifd-batch (no rnix, no detector), so a file or a shape the scanner never
understood still counts here.

    benches/count-calls.py DIR [--json]

Files: `git ls-files -z` in DIR when DIR is a git work tree, else every
regular file under DIR (a `git archive` checkout holds exactly the tracked
files); of those, the ones whose name ends in `.nix`.

A call is an identifier token `callHackage`, `callHackageDirect`,
`callCabal2nix`, `callCabal2nixWithOptions`, `packageSourceOverrides`,
`haskellSrc2nix` or `developPackage` (bare, or the last name of a selection
`x.y.callHackage`) that is applied: the next token starts an argument (a
name that is not a keyword, a string, a number, a path, `(`, `{`, `[`,
`rec`) and it is at the head of its application, not an argument itself
(the token before its selection chain does not end an operand: `map
callHackage xs` is `(map callHackage) xs`). Left out: comments (`# ...`, `/* ... */`); the text of strings
(`"..."`, `''...''`; their `${...}` interpolations are code and are read);
definitions (`callHackage = ...`, `a.callHackage = ...`, `inherit (x)
callHackage;`, a formal `{ callHackage, ... }:` or `{ callHackage ? d }`,
`x ? callHackage`); and references that are not applied (`map callHackage
xs`, `callHackage or f`, `callHackage.override`).

Output: one line per call, `FILE:LINE<TAB>CALLEE<TAB>CHAINLINE`, sorted.
LINE is the line of the callee name; CHAINLINE the line where its selection
chain starts (`pkgs` in `pkgs.haskellPackages.callHackage`), which is where
an application starts and so where a scanner reports it. --json prints
{"files": N, "calls": [{"file", "line", "chain_line", "callee"}]}.
"""

import json
import os
import re
import subprocess
import sys

CALLEES = frozenset(
    {
        "callHackage",
        "callHackageDirect",
        "callCabal2nix",
        "callCabal2nixWithOptions",
        "packageSourceOverrides",
        "haskellSrc2nix",
        "developPackage",
    }
)

# Keywords: a name token that is one of these does not start an argument.
KEYWORDS = frozenset({"if", "then", "else", "assert", "with", "let", "in", "inherit", "or", "rec"})

ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_'\-]*")
# Paths (./x, ../x, ~/x, /x, a/b, <nixpkgs>), URIs, numbers.
PATH_RE = re.compile(r"(?:[A-Za-z0-9._+\-]*(?:/[A-Za-z0-9._+\-]+)+/?|~(?:/[A-Za-z0-9._+\-]+)+/?)")
SPATH_RE = re.compile(r"<[A-Za-z0-9._+\-]+(?:/[A-Za-z0-9._+\-]+)*>")
URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*:[A-Za-z0-9%/?:@&=+$,\-_.!~*']+")
NUM_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
OPS = ("...", "//", "++", "==", "!=", "<=", ">=", "&&", "||", "->", "|>", "<|")


class Tok:
    __slots__ = ("kind", "text", "line")

    def __init__(self, kind, text, line):
        self.kind = kind  # "id", "str", "path", "num", "uri", "op"
        self.text = text
        self.line = line

    def __repr__(self):
        return f"Tok({self.kind},{self.text!r},{self.line})"


def tokenize(src):
    """The code tokens of a Nix text, comments and string contents left out.

    A string is one "str" token (at its opening quote); the code of its
    interpolations follows it as ordinary tokens, bracketed by "${" / "}$" op
    tokens; a string's end is a "strend" token. Tolerant: it never raises on malformed input.
    """
    toks = []
    i, n, line = 0, len(src), 1
    # Mode stack: ("code", depth) where depth counts open braces inside an
    # interpolation (None at the top level), ("str",) or ("istr",).
    stack = [["code", None]]

    def emit(kind, text):
        toks.append(Tok(kind, text, line))

    while i < n:
        mode = stack[-1]
        c = src[i]
        if mode[0] == "str":
            if c == "\\":
                if i + 1 < n and src[i + 1] == "\n":
                    line += 1
                i += 2
            elif c == '"':
                stack.pop()
                emit("strend", '"')
                i += 1
            elif c == "$" and src.startswith("${", i):
                emit("op", "${")
                stack.append(["code", 0])
                i += 2
            else:
                if c == "\n":
                    line += 1
                i += 1
            continue
        if mode[0] == "istr":
            if src.startswith("''", i):
                nxt = src[i + 2] if i + 2 < n else ""
                if nxt == "'" or nxt == "$":  # ''' and ''$ escapes
                    i += 3
                elif nxt == "\\":  # ''\x escape
                    if i + 3 < n and src[i + 3] == "\n":
                        line += 1
                    i += 4
                else:
                    stack.pop()
                    emit("strend", "''")
                    i += 2
            elif c == "$" and src.startswith("${", i):
                emit("op", "${")
                stack.append(["code", 0])
                i += 2
            else:
                if c == "\n":
                    line += 1
                i += 1
            continue
        # code
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c == '"':
            emit("str", '"')
            stack.append(["str"])
            i += 1
        elif src.startswith("''", i):
            emit("str", "''")
            stack.append(["istr"])
            i += 2
        elif c == "{":
            if mode[1] is not None:
                mode[1] += 1
            emit("op", "{")
            i += 1
        elif c == "}":
            if mode[1] is not None:
                if mode[1] == 0:
                    emit("op", "}$")
                    stack.pop()  # end of the interpolation
                    i += 1
                    continue
                mode[1] -= 1
            emit("op", "}")
            i += 1
        elif c == "$" and src.startswith("${", i):  # dynamic attribute ${x}
            emit("op", "${")
            if mode[1] is not None:
                mode[1] += 1
            else:
                stack.append(["code", 0])
            i += 2
        else:
            m = SPATH_RE.match(src, i) if c == "<" else None
            if m:
                emit("path", m.group())
                i = m.end()
                continue
            # As Nix's lexer: the longest of URI, path and name wins, so
            # `x:y` without a space is a URI and `a/b` a path.
            m = URI_RE.match(src, i) if c.isalpha() else None
            if m:
                emit("uri", m.group())
                i = m.end()
                continue
            m = PATH_RE.match(src, i)
            if m and "/" in m.group():
                emit("path", m.group())
                i = m.end()
                continue
            m = ID_RE.match(src, i)
            if m:
                emit("id", m.group())
                i = m.end()
                continue
            m = NUM_RE.match(src, i)
            if m and m.group() != ".":
                emit("num", m.group())
                i = m.end()
                continue
            for op in OPS:
                if src.startswith(op, i):
                    emit("op", op)
                    i += len(op)
                    break
            else:
                emit("op", c)
                i += 1
    return toks


def starts_argument(tok):
    if tok is None:
        return False
    if tok.kind == "id":
        return tok.text not in KEYWORDS or tok.text == "rec"
    if tok.kind in ("str", "path", "num", "uri"):
        return True
    return tok.kind == "op" and tok.text in ("(", "{", "[")


def ends_operand(tok):
    """Does tok end an expression, so that what follows is its argument?"""
    if tok is None:
        return False
    if tok.kind == "id":
        return tok.text not in KEYWORDS
    if tok.kind in ("strend", "path", "num", "uri"):
        return True
    return tok.kind == "op" and tok.text in (")", "]", "}")


def calls(src):
    """[(line, chain_line, callee)] of the applied callee names in src."""
    toks = tokenize(src)
    out = []
    in_inherit = False
    for k, t in enumerate(toks):
        if t.kind == "id" and t.text == "inherit":
            in_inherit = True
            continue
        if in_inherit:
            if t.kind == "op" and t.text == ";":
                in_inherit = False
            continue
        if t.kind != "id" or t.text not in CALLEES:
            continue
        prev = toks[k - 1] if k > 0 else None
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        # Walk back over the selection chain a.b.callee.
        j = k
        while j >= 2 and toks[j - 1].kind == "op" and toks[j - 1].text == "." and toks[j - 2].kind in ("id", "str"):
            j -= 2
        first = toks[j]
        before = toks[j - 1] if j > 0 else None
        # Definitions: `callee = ...`, `a.callee = ...`
        if nxt is not None and nxt.kind == "op" and nxt.text == "=":
            continue
        # `x ? a.callee` (has-attribute), but not a formal's default `{ a ? callee x }`
        if before is not None and before.kind == "op" and before.text == "?":
            formal_default = (
                j >= 3
                and toks[j - 2].kind == "id"
                and toks[j - 3].kind == "op"
                and toks[j - 3].text in ("{", ",")
            )
            if not formal_default:
                continue
        # In argument position (`map callee xs` is `(map callee) xs`) it is
        # passed, not applied.
        if ends_operand(before):
            continue
        # A formal `{ callee, ... }` / `{ callee ? d }` is not applied (below).
        if not starts_argument(nxt):
            continue
        out.append((t.line, first.line, t.text))
    return out


def tracked_files(root):
    try:
        r = subprocess.run(
            ["git", "-C", root, "ls-files", "-z"],
            capture_output=True,
            check=True,
        )
        names = [p.decode("utf-8", "surrogateescape") for p in r.stdout.split(b"\0") if p]
        if names:
            return names
    except (OSError, subprocess.CalledProcessError):
        pass
    names = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".git"]
        for f in files:
            p = os.path.join(d, f)
            if os.path.isfile(p) and not os.path.islink(p):
                names.append(os.path.relpath(p, root))
    return names


def count(root):
    files = sorted(f for f in tracked_files(root) if f.endswith(".nix"))
    found = []
    nfiles = 0
    for f in files:
        p = os.path.join(root, f)
        if not os.path.isfile(p) or os.path.islink(p):
            continue
        nfiles += 1
        with open(p, "rb") as h:
            src = h.read().decode("utf-8", "replace")
        for line, chain_line, callee in calls(src):
            found.append({"file": f, "line": line, "chain_line": chain_line, "callee": callee})
    return nfiles, found


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print("usage: count-calls.py DIR [--json]", file=sys.stderr)
        return 2
    nfiles, found = count(args[0])
    if "--json" in argv:
        json.dump({"files": nfiles, "calls": found}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        for c in found:
            print(f"{c['file']}:{c['line']}\t{c['callee']}\t{c['chain_line']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
