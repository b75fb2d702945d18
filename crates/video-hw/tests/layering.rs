//! The library's dependencies point one way: every module of `src/` belongs to a layer
//! (the table below), and code may name what is in its own layer or a lower one, never a
//! higher one. This test reads every `src/**/*.rs`, finds the paths it names
//! (`use crate::…`, `crate::…` in code, `super::…` that leaves the top-level module),
//! and fails listing every one that points up, with file and line.
//!
//! What does not count: comments (intra-doc links create no dependency), string
//! literals, and test code — files of modules declared under a `#[cfg(test)]`-like
//! attribute and items under one inside a file. Tests may drive a layer through the ones
//! above it (a backend's unit test through `Encoder`); they are no part of the library.
//!
//! A new top-level module must be placed in the table, or this test fails.
//!
//! The lowest layers are crates of their own ([`CRATES`]): the plain records
//! (`crates/video-hw-types`: the error type, codecs, packets, pixel formats), the
//! bitstream layer (`crates/video-hw-bitstream`) and the containers
//! (`crates/video-hw-media`), re-exported by the library at their old paths. Cargo enforces their direction (a crate names only its dependencies); the test
//! checks that their dependencies point down and that the library's table knows them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The layers, lowest first, and the top-level modules of `src/` in each.
const LAYERS: &[(&str, &[&str])] = &[
    // Plain types: what every layer speaks (and the memory frames are lent from). The
    // pixels are too: the transform (`DecoderConfig` carries it) needs only frames, and
    // the conversions and ffmpeg's pixel-format names only frames and codecs. The records
    // below all of them are the crate `video_hw_types` (re-exported as `error`, `codec`,
    // `packet`, `pixels::format` and `config::StreamFormat`).
    (
        "plain types",
        &[
            "video_hw_types",
            "error",
            "env",
            "records",
            "engine",
            "process",
            "worker_threads",
            "config",
            "frame",
            "gpu_memory",
            "device_choice",
            "pixels",
        ],
    ),
    // The crate `video_hw_bitstream`, re-exported as `bitstream`.
    ("bitstream", &["video_hw_bitstream", "bitstream"]),
    // The crate `video_hw_media`, re-exported as `media`.
    // with what the library adds to it (`media_glue`: a track's decoder configuration, the
    // index cache's defaults from `env`).
    ("media", &["video_hw_media", "media", "media_glue"]),
    // Pure-Rust services the engines call: metrics.
    ("engine support", &["metrics"]),
    ("backends", &["backend"]),
    // Which engines exist and their process-wide state.
    ("registry", &["registry", "diagnostics"]),
    ("sessions", &["decoder", "encoder", "device_array", "audio"]),
    ("pipelines", &["pipeline"]),
    ("reader", &["reader"]),
    ("async sessions", &["async_session"]),
];

/// The layers that are crates of their own, lowest first: the crate's folder under
/// `crates/`, its layer in [`LAYERS`], and the names the library re-exports it by.
const CRATES: &[(&str, &str, &[&str])] = &[
    ("video-hw-types", "plain types", &["error", "codec", "packet"]),
    ("video-hw-bitstream", "bitstream", &["bitstream"]),
    ("video-hw-media", "media", &["media"]),
];

/// Modules compiled only for tests (checked like test code: not at all).
const TEST_ONLY: &[&str] = &["test_observe"];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/ is readable").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The module path of a file under `src/`: `pipeline/ring/mod.rs` → `["pipeline", "ring"]`.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// `text` with comments, string and character literals blanked out (newlines kept, so
/// byte offsets and line numbers stay those of the file).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (0usize, i);
                while j < b.len() {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        j += 1;
                    }
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'r' | b'b' if raw_string_at(b, i).is_some() => {
                let (hashes, open) = raw_string_at(b, i).unwrap();
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let end = text[open + 1..].find(&close).map_or(b.len(), |n| open + 1 + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('x', '\n', '\u{..}', '"'), or a lifetime / label.
                let end = if b.get(i + 1) == Some(&b'\\') {
                    text[i + 3..].find('\'').map(|n| i + 3 + n + 1)
                } else {
                    let ch = text[i + 1..].chars().next().map_or(0, char::len_utf8);
                    (b.get(i + 1 + ch) == Some(&b'\'')).then_some(i + 2 + ch)
                };
                match end {
                    Some(end) => {
                        blank(&mut out, i, end);
                        i = end;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("only ASCII was written over")
}

/// At `i`, a raw string (`r"`, `r#"`, `br#"`): its `#` count and the offset of its `"`.
fn raw_string_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b[j] == b'b' {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    (b.get(j + hashes) == Some(&b'"')).then_some((hashes, j + hashes))
}

/// Whether an attribute's text (`#[…]`, without spaces) compiles its item only in tests.
fn is_test_cfg(attr: &str) -> bool {
    let a: String = attr.chars().filter(|c| !c.is_whitespace()).collect();
    a == "#[cfg(test)]" || (a.starts_with("#[cfg(all(") && !a.contains("not(test") && a.contains("test"))
}

/// Offset just past the bracket or brace that closes the one at `open`.
fn matching(b: &[u8], open: usize) -> usize {
    let (o, c) = (b[open], if b[open] == b'[' { b']' } else { b'}' });
    let mut depth = 0;
    for (j, &x) in b.iter().enumerate().skip(open) {
        if x == o {
            depth += 1;
        } else if x == c {
            depth -= 1;
            if depth == 0 {
                return j + 1;
            }
        }
    }
    b.len()
}

/// Blanks out every item under a test-only attribute, and returns the names of the
/// child modules declared that way (`#[cfg(test)] mod tests;`).
fn drop_test_items(code: &mut String) -> BTreeSet<String> {
    let mut test_mods = BTreeSet::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[").map(|n| from + n) {
        let b = code.as_bytes();
        let attr_end = matching(b, at + 1);
        if !is_test_cfg(&code[at..attr_end]) {
            from = attr_end;
            continue;
        }
        // The item: up to its `;`, or through its `{ … }` block.
        let mut j = attr_end;
        while j < b.len() && b[j] != b';' && b[j] != b'{' {
            j += 1;
        }
        let end = if b.get(j) == Some(&b'{') { matching(b, j) } else { j + 1 };
        let item = code[attr_end..end.min(code.len())].to_string();
        let words: Vec<&str> =
            item.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty()).collect();
        if let Some(k) = words.iter().position(|w| *w == "mod")
            && let Some(name) = words.get(k + 1)
        {
            test_mods.insert(name.to_string());
        }
        let blanked: String =
            code[at..end.min(code.len())].chars().map(|c| if c == '\n' { '\n' } else { ' ' }).collect();
        code.replace_range(at..end.min(code.len()), &blanked);
        from = end.min(code.len());
    }
    test_mods
}

/// The paths a use tree names, from `at` (just past `crate::` or a `super::` chain):
/// `a::b::C`, or `{a::b, c::{D, E}}` (each branch its own path).
fn use_paths(b: &[u8], at: usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut i = at;
    let mut path = prefix.to_vec();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) == Some(&b'{') {
            let close = matching(b, i) - 1;
            let mut start = i + 1;
            let mut depth = 0;
            for j in i + 1..=close {
                match b[j] {
                    b'{' => depth += 1,
                    b'}' if depth > 0 => depth -= 1,
                    b',' | b'}' if depth == 0 => {
                        if b[start..j].iter().any(|c| c.is_ascii_alphanumeric()) {
                            use_paths(b, start, &path, out);
                        }
                        start = j + 1;
                    }
                    _ => {}
                }
            }
            return;
        }
        let s = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if s == i {
            break;
        }
        path.push(String::from_utf8_lossy(&b[s..i]).into_owned());
        let mut k = i;
        while k < b.len() && b[k].is_ascii_whitespace() {
            k += 1;
        }
        if b[k..].starts_with(b"::") {
            i = k + 2;
        } else {
            break;
        }
    }
    if path.len() > prefix.len() {
        out.push(path);
    }
}

/// One path named by a file, resolved from the crate root.
struct Reference {
    line: usize,
    path: Vec<String>,
}

/// Every path from the crate root that `code` (of module `module`) names.
fn references(code: &str, module: &[String]) -> Vec<Reference> {
    let b = code.as_bytes();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut refs = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !ident(b[i - 1]);
        if starts_word && b[i..].starts_with(b"crate::") {
            let mut paths = Vec::new();
            use_paths(b, i + "crate::".len(), &[], &mut paths);
            refs.extend(paths.into_iter().map(|path| Reference { line: line_of(i), path }));
            i += "crate::".len();
        } else if starts_word && b[i..].starts_with(b"super::") {
            // `super::super::x` from module a::b::c is a::x: a reference when it leaves
            // the file's top-level module.
            let mut base = module.to_vec();
            let mut j = i;
            while b[j..].starts_with(b"super::") {
                base.pop();
                j += "super::".len();
            }
            let mut paths = Vec::new();
            use_paths(b, j, &base, &mut paths);
            for path in paths {
                if path.first() != module.first() {
                    refs.push(Reference { line: line_of(i), path });
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    refs
}

/// Names the crate root re-exports (`pub use codec::{Codec, …};` in lib.rs), by the
/// module they come from.
fn root_reexports(lib: &str) -> HashMap<String, String> {
    let code = strip(lib);
    let b = code.as_bytes();
    let mut map = HashMap::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("pub use ").map(|n| from + n) {
        let mut paths = Vec::new();
        use_paths(b, at + "pub use ".len(), &[], &mut paths);
        for p in paths {
            if let (Some(first), Some(last)) = (p.first(), p.last()) {
                map.insert(last.clone(), first.clone());
            }
        }
        from = at + 1;
    }
    map
}

/// The module a name the crate root re-exports comes from, through re-exports of
/// re-exports (`pub use records::codec;` then `pub use codec::Codec;`).
fn reexport_source(reexports: &HashMap<String, String>, layer_of: &HashMap<&str, usize>, name: &str) -> Option<String> {
    let mut m = reexports.get(name)?;
    for _ in 0..8 {
        if layer_of.contains_key(m.as_str()) {
            return Some(m.clone());
        }
        m = reexports.get(m)?;
    }
    None
}

/// Every source file of the library under `src`, by path: its module path and its code with
/// comments, strings and test-only items taken out; and the modules compiled only for
/// tests (those named in `TEST_ONLY` and the `#[cfg(test)]` items found on the way).
#[allow(clippy::type_complexity)]
fn library_sources(src: &Path) -> (BTreeMap<PathBuf, (Vec<String>, String)>, BTreeSet<Vec<String>>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut texts = BTreeMap::new();
    let mut test_only: BTreeSet<Vec<String>> = TEST_ONLY.iter().map(|m| vec![m.to_string()]).collect();
    for f in &files {
        let rel = f.strip_prefix(src).unwrap().to_path_buf();
        let module = module_of(&rel);
        let mut code = strip(&std::fs::read_to_string(f).unwrap());
        for child in drop_test_items(&mut code) {
            let mut m = module.clone();
            m.push(child);
            test_only.insert(m);
        }
        texts.insert(rel, (module, code));
    }
    (texts, test_only)
}

#[test]
fn no_module_names_a_higher_layer() {
    let src = src_dir();
    let layer_of: HashMap<&str, usize> =
        LAYERS.iter().enumerate().flat_map(|(i, (_, mods))| mods.iter().map(move |m| (*m, i))).collect();
    let reexports = root_reexports(&std::fs::read_to_string(src.join("lib.rs")).unwrap());

    let (texts, test_only) = library_sources(&src);

    let mut problems = Vec::new();
    let mut checked = 0;
    for (rel, (module, code)) in &texts {
        if module.is_empty() || (1..=module.len()).any(|n| test_only.contains(&module[..n])) {
            continue; // lib.rs (the root declares every module), and test-only files
        }
        let Some(&own) = layer_of.get(module[0].as_str()) else {
            problems.push(format!("src/{}: module `{}` is in no layer: add it to LAYERS", rel.display(), module[0]));
            continue;
        };
        for r in references(code, module) {
            checked += 1;
            let first = r.path[0].as_str();
            let target = if layer_of.contains_key(first) {
                first.to_string()
            } else if let Some(m) = reexport_source(&reexports, &layer_of, first) {
                m
            } else {
                problems.push(format!(
                    "src/{}:{}: `crate::{}` names no module of the layer table",
                    rel.display(),
                    r.line,
                    r.path.join("::")
                ));
                continue;
            };
            let theirs = layer_of[target.as_str()];
            if theirs > own {
                problems.push(format!(
                    "src/{}:{}: `crate::{}` points up: {} ({}) -> {} ({})",
                    rel.display(),
                    r.line,
                    r.path.join("::"),
                    module[0],
                    LAYERS[own].0,
                    target,
                    LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(checked > 500, "only {checked} references found: the scanner is broken");
    assert!(problems.is_empty(), "{} upward or unplaced reference(s):\n{}", problems.len(), problems.join("\n"));
}

/// The hardware engines: named only by their own folders in `backend/`, the registry's
/// rows and the enum itself. Everything else asks the engine's descriptor.
const HARDWARE_ENGINES: &[&str] = &["Nvdec", "Nvenc", "Qsv", "Vaapi", "VideoToolbox", "Amf"];

/// The software engines, likewise (audio's included).
const SOFTWARE_ENGINES: &[&str] = &["Ffmpeg", "Rav1d", "Rav1e", "OpenH264", "Symphonia", "Ropus"];

/// Where an engine may be named: its folder (`backend/`), the registry's rows, and the
/// enum's own file.
fn may_name_engines(rel: &str) -> bool {
    rel.starts_with("backend/") || rel == "registry/rows.rs" || rel == "engine.rs"
}

/// No file outside `backend/` and the registry's rows names an engine (`Engine::Nvdec`,
/// `crate::Engine::Vaapi`, …): a generic layer asks the engine's descriptor what it can do
/// (docs/adding-an-engine.md). Test code is exempt (files of test-only modules, and items
/// under `#[cfg(test)]`): tests pick engines by name.
#[test]
fn only_backends_and_registry_rows_name_engines() {
    let src = src_dir();
    let (texts, test_only) = library_sources(&src);
    let mut problems = Vec::new();
    let mut seen = 0;
    for (rel, (module, code)) in &texts {
        let name = rel.to_string_lossy().replace('\\', "/");
        // `x_tests.rs` files are test modules declared by path (`#[cfg(test)] #[path =
        // "x_tests.rs"] mod tests;`), which the module names above do not match.
        let by_path = name.ends_with("_tests.rs");
        if by_path || (1..=module.len()).any(|n| test_only.contains(&module[..n])) {
            continue;
        }
        let b = code.as_bytes();
        let mut from = 0;
        while let Some(at) = code[from..].find("Engine::").map(|n| from + n) {
            from = at + "Engine::".len();
            // `Engine::X`, not `SomeEngine::X`.
            if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
                continue;
            }
            let variant: String = code[from..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let hardware = HARDWARE_ENGINES.contains(&variant.as_str());
            let software = SOFTWARE_ENGINES.contains(&variant.as_str());
            if hardware || software {
                seen += 1;
            }
            if (hardware || software) && !may_name_engines(&name) {
                let line = code[..at].matches('\n').count() + 1;
                problems.push(format!("src/{name}:{line}: names Engine::{variant}: ask its descriptor instead"));
            }
        }
    }
    assert!(seen > 20, "only {seen} engine names found: the scanner is broken");
    assert!(
        problems.is_empty(),
        "{} engine name(s) outside backend/ and the registry rows:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_top_level_module_is_placed_once() {
    let mut seen = BTreeSet::new();
    for (_, mods) in LAYERS {
        for m in *mods {
            assert!(seen.insert(*m), "`{m}` is in two layers");
        }
    }
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    for f in files {
        let module = module_of(f.strip_prefix(src_dir()).unwrap());
        if let Some(top) = module.first() {
            assert!(
                seen.contains(top.as_str()) || TEST_ONLY.contains(&top.as_str()),
                "`{top}` ({}) is in no layer",
                f.display()
            );
        }
    }
}

#[test]
fn the_scanner_sees_what_it_must() {
    let code = strip(
        "use crate::a::{b::C, d};\n// crate::comment::X\nlet s = \"crate::string\"; let c = '\"';\n\
         fn f<'a>() { crate::e::F; super::super::g::H }\n#[cfg(test)]\nmod tests { use crate::t::T; }\n",
    );
    let mut code = code;
    let test_mods = drop_test_items(&mut code);
    assert_eq!(test_mods.into_iter().collect::<Vec<_>>(), ["tests"]);
    let refs: Vec<(usize, String)> =
        references(&code, &["x".into(), "y".into()]).into_iter().map(|r| (r.line, r.path.join("::"))).collect();
    assert_eq!(
        refs,
        [(1, "a::b::C".to_string()), (1, "a::d".to_string()), (4, "e::F".to_string()), (4, "g::H".to_string())]
    );
    assert!(is_test_cfg("#[cfg(all(test, feature = \"ffmpeg\"))]"));
    assert!(!is_test_cfg("#[cfg(not(test))]"));
    assert!(!is_test_cfg("#[cfg(feature = \"ffmpeg\")]"));
}

/// The command-line crate's modules form no circle, at every level of its folders: for
/// every pair of modules side by side (the top-level folders `commands`, `options`, `io`,
/// `report` and files; the files of one folder), at most one names the other, directly
/// or through others (shared argument types live in `options`, below the commands that
/// share them). Test code does not count, as above.
#[test]
fn the_cli_crate_has_no_import_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../video-hw-cli/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // Folder → (module side by side in it → the modules beside it that it names).
    let mut graphs: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut named = 0;
    for f in &files {
        let module = module_of(f.strip_prefix(&src).unwrap());
        let mut code = strip(&std::fs::read_to_string(f).unwrap());
        drop_test_items(&mut code);
        let refs = references(&code, &module);
        // Every folder the module is in, the crate root first (main.rs declares the top).
        for depth in 0..module.len() {
            let (folder, node) = (&module[..depth], &module[depth]);
            let targets = graphs.entry(folder.to_vec()).or_default().entry(node.clone()).or_default();
            for r in &refs {
                if r.path.len() > depth && r.path[..depth] == *folder && r.path[depth] != *node {
                    if depth == 0 {
                        named += 1;
                    }
                    targets.insert(r.path[depth].clone());
                }
            }
        }
    }
    let top = graphs.get(&Vec::new()).map_or(0, BTreeMap::len);
    assert!(top >= 6 && named > 50, "{top} top-level modules, {named} references: the scanner is broken");
    let mut circles = BTreeSet::new();
    for (folder, edges) in &graphs {
        let prefix = if folder.is_empty() { String::new() } else { format!("{}::", folder.join("::")) };
        // A circle is a path back to where it started: depth-first from every module.
        for start in edges.keys() {
            let mut stack = vec![(start.clone(), vec![start.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((at, path)) = stack.pop() {
                for next in edges.get(&at).into_iter().flatten() {
                    if next == start {
                        let mut circle = path.clone();
                        let first = circle.iter().enumerate().min_by_key(|(_, m)| m.as_str()).map_or(0, |(i, _)| i);
                        circle.rotate_left(first);
                        let named: Vec<String> = circle.iter().map(|m| format!("{prefix}{m}")).collect();
                        circles.insert(named.join(" -> "));
                    } else if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles in the CLI crate:\n{}",
        circles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The names of the workspace crates (`video-hw…`) in the `[dependencies]` of a
/// `Cargo.toml` (not its dev-dependencies: doc examples may use the library above).
fn workspace_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]" || (line.starts_with("[target.") && line.ends_with(".dependencies]"));
        } else if in_deps && line.starts_with("video-hw") {
            let name: String = line.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            deps.insert(name);
        }
    }
    deps
}

/// The bottom layers that are crates depend only on crates of lower layers, name nothing
/// of the library (`video_hw::…`) outside comments and tests, are dependencies of the
/// library, and are re-exported by it at the names [`CRATES`] lists.
#[test]
fn the_layer_crates_point_down() {
    let crates_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let lib = strip(&std::fs::read_to_string(src_dir().join("lib.rs")).unwrap());
    let ours = workspace_dependencies(&std::fs::read_to_string(crates_dir.join("video-hw/Cargo.toml")).unwrap());
    let mut problems = Vec::new();
    for (i, (name, layer, reexported_as)) in CRATES.iter().enumerate() {
        assert!(LAYERS.iter().any(|(l, _)| l == layer), "{name}: no layer `{layer}` in LAYERS");
        let manifest = std::fs::read_to_string(crates_dir.join(name).join("Cargo.toml")).unwrap();
        let below: BTreeSet<String> = CRATES[..i].iter().map(|(n, ..)| n.to_string()).collect();
        for dep in workspace_dependencies(&manifest) {
            if !below.contains(&dep) {
                problems.push(format!("crates/{name}/Cargo.toml depends on {dep}, which is not a layer below it"));
            }
        }
        if !ours.contains(*name) {
            problems.push(format!("crates/video-hw/Cargo.toml does not depend on {name}"));
        }
        let lib_name = name.replace('-', "_");
        if !lib.contains(&lib_name) {
            problems.push(format!("src/lib.rs does not re-export {lib_name}"));
        }
        for module in *reexported_as {
            let module_file = src_dir().join(format!("{module}.rs"));
            let module_dir = src_dir().join(module);
            if module_file.exists() || module_dir.exists() {
                problems.push(format!("src/{module}: still a module of the library, but {name} holds it"));
            }
        }
        let (texts, test_only) = library_sources(&crates_dir.join(name).join("src"));
        for (rel, (module, code)) in &texts {
            if (1..=module.len()).any(|n| test_only.contains(&module[..n])) {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                if line.contains("video_hw::") {
                    problems.push(format!("crates/{name}/src/{}:{}: names the library above it", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
