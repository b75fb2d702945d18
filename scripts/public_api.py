#!/usr/bin/env python3
"""Lists a crate's public API from rustdoc's JSON, one line per reachable path, so that two
builds can be compared with `diff` (what moved, what is re-exported, what went).

    RUSTC_BOOTSTRAP=1 cargo rustdoc -p video-hw --lib -- -Zunstable-options --output-format json
    python3 scripts/public_api.py target/doc/video_hw.json > api.txt
    python3 scripts/public_api.py --diff before.json after.json

Each line is `path kind` (kind: module, struct, enum, variant, field, method, function, trait,
constant, static, type alias, macro, ...); a path reached through a `pub use` is listed under
every name it is reachable by, with `(re-export of ORIGINAL)` where the item is defined
elsewhere. Inherent methods, enum variants and public fields are listed under their type.
Signatures are not compared: a changed argument list shows only when a name changes.

Why our own script: `cargo public-api` wants a nightly toolchain from rustup and a rustdoc
JSON format version that matches its release; this reads whatever the installed rustdoc
writes (with RUSTC_BOOTSTRAP=1), using only the fields every recent format has.
"""

import argparse
import difflib
import json
import sys


def kind_of(item):
    inner = item.get("inner") or {}
    return next(iter(inner), "?") if isinstance(inner, dict) else str(inner)


def lines_of(doc):
    index, paths = doc["index"], doc.get("paths", {})
    out = set()

    def original(item_id):
        p = paths.get(str(item_id))
        return "::".join(p["path"]) if p else None

    def members(item, path):
        kind = kind_of(item)
        body = item["inner"][kind]
        if kind in ("struct", "enum", "union"):
            for impl_id in body.get("impls", []):
                impl = index.get(str(impl_id))
                if not impl or impl["inner"]["impl"].get("trait") is not None:
                    continue
                for m in impl["inner"]["impl"]["items"]:
                    mi = index.get(str(m))
                    if mi and mi.get("visibility") == "public" and mi.get("name"):
                        out.add(f"{path}::{mi['name']} {'method' if kind_of(mi) == 'function' else kind_of(mi)}")
        if kind == "enum":
            for v in body.get("variants", []):
                vi = index.get(str(v))
                if vi:
                    out.add(f"{path}::{vi['name']} variant")
        if kind == "struct":
            fields = (body.get("kind") or {}).get("plain", {}).get("fields", [])
            for f in fields:
                fi = index.get(str(f))
                if fi and fi.get("visibility") == "public":
                    out.add(f"{path}::{fi['name']} field")

    def walk(module_id, path, seen):
        if module_id in seen:
            return
        seen = seen | {module_id}
        module = index.get(str(module_id))
        if not module:
            return
        for item_id in module["inner"]["module"]["items"]:
            item = index.get(str(item_id))
            if not item or item.get("visibility") != "public":
                continue
            kind = kind_of(item)
            if kind == "use":
                use = item["inner"]["use"]
                target = use.get("id")
                if use.get("is_glob"):
                    if target is not None:
                        walk(target, path, seen)
                    continue
                name = use["name"]
                t = index.get(str(target)) if target is not None else None
                here = f"{path}::{name}"
                if t is None:
                    out.add(f"{here} re-export of {use.get('source')}")
                    continue
                tk = kind_of(t)
                note = ""
                defined = original(target)
                if defined and defined != here:
                    note = f" (re-export of {defined})"
                enter(target, t, here, f"{tk}{note}", seen)
                continue
            enter(item_id, item, f"{path}::{item['name']}", kind, seen)

    def enter(item_id, item, here, label, seen):
        """Lists ``item`` at ``here``, then what it holds (a module's items, a type's members)."""
        out.add(f"{here} {label}")
        if kind_of(item) == "module":
            walk(item_id, here, seen)
        else:
            members(item, here)

    root = doc["root"]
    walk(root, index[str(root)]["name"], frozenset())
    return sorted(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="rustdoc JSON (two with --diff)")
    ap.add_argument("--diff", action="store_true", help="a unified diff of two builds' lists")
    args = ap.parse_args()
    lists = [lines_of(json.load(open(p))) for p in args.json]
    if args.diff:
        # Where a re-exported item is defined is not API: a move behind an unchanged path
        # (`video_hw::Codec` now defined in a private `records` module) is no change.
        lists = [sorted({line.split(" (re-export of ")[0] for line in lst}) for lst in lists]
        if len(lists) != 2:
            sys.exit("--diff takes two JSON files")
        sys.stdout.writelines(
            line + "\n" for line in difflib.unified_diff(lists[0], lists[1], args.json[0], args.json[1], n=0, lineterm="")
        )
        return
    for line in lists[0]:
        print(line)


if __name__ == "__main__":
    main()
