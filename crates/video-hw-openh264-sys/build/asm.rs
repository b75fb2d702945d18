//! OpenH264's x86 assembly (`*.asm`, NASM syntax), assembled with `nasm` when it is
//! installed; without it the C++ versions of the same functions are built instead
//! (slower, same output).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// How to run nasm for the target.
pub struct Nasm {
    program: PathBuf,
    format: &'static str,
    defines: Vec<&'static str>,
    /// Defines the C++ code needs to call the assembly.
    pub cpp_defines: Vec<&'static str>,
}

/// Why no assembly is built.
pub enum NoAsm {
    /// The target has no NASM code (not x86) or it was turned off: nothing to say.
    NotWanted,
    /// The target has assembly but nasm cannot be used: worth a warning.
    Missing(String),
}

/// The assembler for this target, if it has NASM code and `nasm` runs. `NASM` names the
/// program (default `nasm` on `PATH`); `VIDEO_HW_OPENH264_NO_ASM=1` turns assembly off.
pub fn find() -> Result<Nasm, NoAsm> {
    if std::env::var_os("VIDEO_HW_OPENH264_NO_ASM").is_some_and(|v| v != "0") {
        return Err(NoAsm::NotWanted);
    }
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // The same choices as OpenH264's own build (build/x86-common.mk): AVX2 code on, CPU
    // features detected at run time.
    let (format, mut defines, mut cpp_defines) = match (arch.as_str(), os.as_str()) {
        ("x86_64", "linux" | "android" | "freebsd" | "openbsd" | "netbsd" | "dragonfly") => {
            ("elf64", vec!["UNIX64"], vec!["X86_ASM"])
        }
        ("x86_64", "macos" | "ios") => ("macho64", vec!["UNIX64", "PREFIX"], vec!["X86_ASM"]),
        ("x86_64", "windows") => ("win64", vec!["WIN64"], vec!["X86_ASM"]),
        ("x86", "windows") => ("win32", vec!["X86_32", "PREFIX"], vec!["X86_ASM", "X86_32_ASM"]),
        ("x86", _) => ("elf32", vec!["X86_32"], vec!["X86_ASM", "X86_32_ASM"]),
        _ => return Err(NoAsm::NotWanted),
    };
    defines.push("HAVE_AVX2");
    cpp_defines.push("HAVE_AVX2");
    let program = std::env::var_os("NASM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("nasm"));
    match Command::new(&program).arg("-v").output() {
        Ok(o) if o.status.success() => Ok(Nasm { program, format, defines, cpp_defines }),
        Ok(o) => {
            Err(NoAsm::Missing(format!("{} -v failed: {}", program.display(), String::from_utf8_lossy(&o.stderr))))
        }
        Err(e) => Err(NoAsm::Missing(format!("{} not found ({e})", program.display()))),
    }
}

impl Nasm {
    /// Assembles `files` into `out_dir` (all at once, in parallel); returns the objects.
    pub fn assemble(&self, files: &[PathBuf], include: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
        let mut running: Vec<(PathBuf, Child)> = Vec::new();
        let mut objects = Vec::new();
        for file in files {
            let stem = file.file_stem().and_then(|s| s.to_str()).ok_or("odd asm file name")?;
            let object = out_dir.join(format!("{stem}.o"));
            let mut cmd = Command::new(&self.program);
            cmd.arg("-f").arg(self.format);
            for d in &self.defines {
                cmd.arg(format!("-D{d}"));
            }
            // nasm wants the include directory with its trailing separator.
            cmd.arg(format!("-I{}/", include.display())).arg("-o").arg(&object).arg(file);
            let child = cmd.spawn().map_err(|e| format!("{}: {e}", self.program.display()))?;
            running.push((file.clone(), child));
            objects.push(object);
        }
        let mut failed = Vec::new();
        for (file, child) in running {
            match child.wait_with_output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => failed.push(format!("{}: {}", file.display(), String::from_utf8_lossy(&o.stderr).trim())),
                Err(e) => failed.push(format!("{}: {e}", file.display())),
            }
        }
        if failed.is_empty() { Ok(objects) } else { Err(failed.join("\n")) }
    }
}
