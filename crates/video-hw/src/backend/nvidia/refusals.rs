//! Codecs this machine's NVDEC refused, remembered on disk, so that a new process knows it
//! without starting CUDA.
//!
//! Why: `device="auto"` asks NVDEC whether it decodes a stream only where the GPU would
//! win, and asking starts CUDA (0.3-0.5 s in a fresh process). On an H100 or H200, whose
//! NVDEC has no AV1, every fresh process that weighed a long AV1 file paid that start to
//! learn the same answer: a whole 4K AV1 file came 1.15x the CPU's time, whole process
//! (bench/results/auto-grid-h200-20261127-eb4871a).
//!
//! A refusal is a file under `$XDG_CACHE_HOME/video-hw/nvdec-refusals/` (else
//! `~/.cache/...`) holding the reason, named by a hash of this library's version, the
//! driver's version line (`/proc/driver/nvidia/version`), the machine's GPUs
//! (`/proc/driver/nvidia/gpus/*/information`: their model and UUID) and the codec. Read
//! without loading or starting anything. Only where every GPU of the machine is the same
//! model: CUDA numbers devices in its own order, so the answer must hold for any of them.
//! A new driver, another GPU or another version of this library asks again. Only
//! refusals are remembered (a "yes" also gives the session count, which the probe reads).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::Codec;

/// Where the driver describes itself and its GPUs (Linux).
const PROC: &str = "/proc/driver/nvidia";

/// The folder refusals are kept in, when a cache folder is known.
fn folder() -> Option<PathBuf> {
    Some(crate::env::cache_home()?.join("nvdec-refusals"))
}

/// This machine's driver and GPUs, read once a process (`device="auto"` asks on every
/// file it weighs).
fn this_machine() -> Option<u64> {
    static MACHINE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    *MACHINE.get_or_init(|| machine(Path::new(PROC)))
}

/// Why this machine's NVDEC does not decode `codec`, where a process found so before.
pub(crate) fn known(codec: Codec) -> Option<String> {
    known_in(&folder()?, this_machine()?, codec)
}

/// Remembers that this machine's NVDEC does not decode `codec`, and why. Failures to write
/// are ignored: the next process then asks again.
pub(crate) fn remember(codec: Codec, why: &str) {
    if let (Some(dir), Some(m)) = (folder(), this_machine()) {
        remember_in(&dir, m, codec, why);
    }
}

fn known_in(dir: &Path, machine: u64, codec: Codec) -> Option<String> {
    let why = std::fs::read_to_string(dir.join(key(machine, codec))).ok()?;
    (!why.is_empty()).then_some(why)
}

fn remember_in(dir: &Path, machine: u64, codec: Codec, why: &str) {
    if !why.is_empty() {
        let _ = video_hw_media::cache_file::write_atomic(&dir.join(key(machine, codec)), why.as_bytes());
    }
}

/// The name of `codec`'s refusal on `machine`.
fn key(machine: u64, codec: Codec) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    machine.hash(&mut h);
    codec.name().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// A hash of this library's version and the machine `proc` describes (driver version, GPU
/// models and UUIDs), or `None` where the driver does not describe it or its GPUs are not
/// all one model.
fn machine(proc: &Path) -> Option<u64> {
    let driver = std::fs::read_to_string(proc.join("version")).ok()?;
    let driver = driver.lines().next()?.trim().to_string();
    let mut gpus = Vec::new();
    for entry in std::fs::read_dir(proc.join("gpus")).ok()? {
        let text = std::fs::read_to_string(entry.ok()?.path().join("information")).ok()?;
        let field = |name: &str| {
            text.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start_matches(':').trim().to_string()))
        };
        gpus.push((field("Model")?, field("GPU UUID")?));
    }
    gpus.sort();
    let model = &gpus.first()?.0;
    if gpus.iter().any(|(m, _)| m != model) {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    driver.hash(&mut h);
    gpus.hash(&mut h);
    Some(h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A driver's `/proc` folder with `models` (one GPU each) under a fresh temporary folder.
    fn fake(name: &str, driver: &str, models: &[&str]) -> PathBuf {
        let root = std::env::temp_dir().join(format!("video-hw-refusals-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (i, m) in models.iter().enumerate() {
            let gpu = root.join("proc/gpus").join(format!("0000:{i:02x}:00.0"));
            std::fs::create_dir_all(&gpu).unwrap();
            let info = format!("Model: \t\t {m}\nIRQ:\t\t 42\nGPU UUID: \t GPU-{i}-uuid\nBus Type:\t PCIe\n");
            std::fs::write(gpu.join("information"), info).unwrap();
        }
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::write(
            root.join("proc/version"),
            format!("NVRM version: NVIDIA UNIX x86_64 Kernel Module  {driver}\nGCC version: 12\n"),
        )
        .unwrap();
        root
    }

    #[test]
    fn a_refusal_is_known_on_the_same_machine_and_driver_only() {
        let root = fake("same", "580.159.04", &["NVIDIA H200", "NVIDIA H200"]);
        let (dir, proc) = (root.join("cache"), root.join("proc"));
        let m = machine(&proc).expect("two GPUs of one model");
        assert_eq!(known_in(&dir, m, Codec::Av1), None, "nothing remembered yet");
        remember_in(&dir, m, Codec::Av1, "GPU 0: NVIDIA H200: NVDEC has no av1 decode");
        assert_eq!(known_in(&dir, m, Codec::Av1).as_deref(), Some("GPU 0: NVIDIA H200: NVDEC has no av1 decode"));
        assert_eq!(known_in(&dir, m, Codec::Hevc), None, "another codec");
        // A new driver is another machine: it asks again.
        std::fs::write(proc.join("version"), "NVRM version: NVIDIA UNIX x86_64 Kernel Module  590.1\n").unwrap();
        let m2 = machine(&proc).unwrap();
        assert_ne!(m, m2);
        assert_eq!(known_in(&dir, m2, Codec::Av1), None);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn mixed_gpus_or_no_driver_remember_nothing() {
        let root = fake("mixed", "580.159.04", &["NVIDIA H200", "NVIDIA L4"]);
        assert_eq!(machine(&root.join("proc")), None, "device numbers may name either model");
        assert_eq!(machine(&root.join("no-driver")), None);
        let empty = fake("empty", "580.159.04", &[]);
        assert_eq!(machine(&empty.join("proc")), None, "a driver without GPUs");
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&empty);
    }
}
