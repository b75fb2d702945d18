#!/usr/bin/env python3
"""Lists a crate's public API from rustdoc's JSON, one line per reachable path, so that two
builds can be compared with `diff` (what moved, what is re-exported, what went).

    RUSTC_BOOTSTRAP=1 cargo rustdoc -p video-hw --lib -- -Zunstable-options --output-format json
    python3 scripts/public_api.py target/doc/video_hw.json > api.txt
    python3 scripts/public_api.py --diff before.json after.json

The library re-exports crates of its own (`video_hw::bitstream` is the crate
`video_hw_bitstream`, `video_hw::codec` is `video_hw_types::codec`): their JSON, built the same
way (`cargo rustdoc -p video-hw-types ...`, `-p video-hw-bitstream ...`), is read from beside the
library's (`target/doc/video_hw_types.json`), and their items are listed under the paths the
library gives them. Without it, such a re-export is one line, and a note on stderr says so.

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


def lines_of(doc, deps=None):
    """The lines of ``doc``'s public API. ``deps`` maps a crate's name to its own rustdoc
    JSON: a `pub use` of an item of that crate (`pub use video_hw_bitstream as bitstream`)
    is then followed into it, as a re-export within the crate is."""
    deps = deps or {}
    out = set()
    missing = set()

    def original(d, item_id):
        p = d.get("paths", {}).get(str(item_id))
        if not p:
            return None
        path = list(p["path"])
        if p.get("crate_id", 0) == 0:
            path[0] = d["index"][str(d["root"])]["name"]
        return "::".join(path)

    def external(d, item_id):
        """The JSON and id of an item of another crate, from that crate's own JSON."""
        p = d.get("paths", {}).get(str(item_id))
        if not p or p.get("crate_id", 0) == 0:
            return None
        crate = d.get("external_crates", {}).get(str(p["crate_id"]), {}).get("name")
        dep = deps.get(crate)
        if dep is None:
            missing.add(crate)
            return None
        for dep_id, dp in dep.get("paths", {}).items():
            if dp.get("crate_id", 0) == 0 and dp["path"] == p["path"] and dep_id in dep["index"]:
                return dep, dep_id
        return None

    def members(d, item, path):
        index = d["index"]
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

    def walk(d, module_id, path, seen):
        index = d["index"]
        key = (id(d), str(module_id))
        if key in seen:
            return
        seen = seen | {key}
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
                td, t = d, index.get(str(target)) if target is not None else None
                if t is None and target is not None:
                    found = external(d, target)
                    if found:
                        td, target = found
                        t = td["index"][str(target)]
                if use.get("is_glob"):
                    if t is not None:
                        walk(td, target, path, seen)
                    continue
                name = use["name"]
                here = f"{path}::{name}"
                if t is None:
                    out.add(f"{here} re-export of {use.get('source')}")
                    continue
                tk = kind_of(t)
                note = ""
                defined = original(td, target)
                if defined and defined != here:
                    note = f" (re-export of {defined})"
                enter(td, target, t, here, f"{tk}{note}", seen)
                continue
            enter(d, item_id, item, f"{path}::{item['name']}", kind, seen)

    def enter(d, item_id, item, here, label, seen):
        """Lists ``item`` at ``here``, then what it holds (a module's items, a type's members)."""
        out.add(f"{here} {label}")
        if kind_of(item) == "module":
            walk(d, item_id, here, seen)
        else:
            members(d, item, here)

    root = doc["root"]
    walk(doc, root, doc["index"][str(root)]["name"], frozenset())
    for crate in sorted(c for c in missing if c):
        print(
            f"public_api.py: {crate}.json not found beside the crate's JSON: its re-exports are listed, not followed "
            f"(cargo rustdoc -p {crate.replace('_', '-')} --lib -- -Zunstable-options --output-format json)",
            file=sys.stderr,
        )
    return sorted(out)


def dependencies_of(path, doc):
    """The JSON of every crate ``doc`` names that lies beside ``path`` (rustdoc writes each
    crate's JSON as ``target/doc/<crate>.json``)."""
    import os

    deps = {}
    folder = os.path.dirname(os.path.abspath(path))
    for crate in doc.get("external_crates", {}).values():
        name = crate.get("name")
        candidate = os.path.join(folder, f"{name}.json")
        if name and name not in deps and os.path.exists(candidate):
            with open(candidate) as f:
                deps[name] = json.load(f)
    return deps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="rustdoc JSON (two with --diff)")
    ap.add_argument("--diff", action="store_true", help="a unified diff of two builds' lists")
    args = ap.parse_args()
    lists = []
    for p in args.json:
        with open(p) as f:
            doc = json.load(f)
        lists.append(lines_of(doc, dependencies_of(p, doc)))
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
