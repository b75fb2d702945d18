//! The libraries a shared library needs (`DT_NEEDED`), read from its ELF file, so that a
//! folder of bundled libraries (a PyAV wheel's `av.libs/`, whose files carry no run path)
//! can be loaded in dependency order: the loader then finds each dependency already
//! loaded under its soname. Read with the `object` crate (no loader involved).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use object::Endianness;
use object::elf::{DT_NEEDED, FileHeader64};
use object::read::elf::FileHeader;

/// The sonames `path` needs, in the file's order; empty if it is not a readable ELF file.
pub(crate) fn needed(path: &Path) -> Vec<String> {
    let Ok(data) = std::fs::read(path) else { return Vec::new() };
    let data = data.as_slice();
    let Ok(header) = FileHeader64::<Endianness>::parse(data) else { return Vec::new() };
    let Ok(endian) = header.endian() else { return Vec::new() };
    let Ok(sections) = header.sections(endian, data) else { return Vec::new() };
    let Ok(table) = sections.dynamic_table(endian, data) else { return Vec::new() };
    table
        .iter()
        .filter(|d| d.tag == DT_NEEDED)
        .filter_map(|d| table.string(d).ok())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The files of `dir` that `roots` need, directly or through each other, dependencies
/// first, then the roots. Libraries not in `dir` (the C library, system ones) are left to
/// the loader.
pub(crate) fn load_order(dir: &Path, roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    for root in roots {
        visit(dir, root, &mut seen, &mut order, 0);
    }
    order
}

fn visit(dir: &Path, file: &Path, seen: &mut HashSet<PathBuf>, order: &mut Vec<PathBuf>, depth: usize) {
    // Bounded: a cycle or an absurd chain cannot recurse for ever.
    if depth > 64 || !seen.insert(file.to_path_buf()) {
        return;
    }
    for name in needed(file) {
        let dep = dir.join(&name);
        if dep.is_file() {
            visit(dir, &dep, seen, order, depth + 1);
        }
    }
    order.push(file.to_path_buf());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_system_library_names_its_needs() {
        // Every Linux machine that runs these tests has the C library and libm.
        let candidates = ["/lib/x86_64-linux-gnu/libm.so.6", "/lib/aarch64-linux-gnu/libm.so.6", "/lib64/libm.so.6"];
        if let Some(libm) = candidates.iter().map(Path::new).find(|p| p.is_file()) {
            assert!(needed(libm).iter().any(|n| n.starts_with("libc.so")), "{:?}", needed(libm));
        }
        assert!(needed(Path::new("/nonexistent")).is_empty());
    }
}
