//! What the benchmarks share: where a run of record is written.

/// The day and the checkout's commit (`date +%Y%m%d`, `git rev-parse --short HEAD`; "unknown"
/// where either cannot tell), which name a run of record.
pub fn date_and_commit() -> (String, String) {
    let out = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into())
    };
    (out("date", &["+%Y%m%d"]), out("git", &["rev-parse", "--short", "HEAD"]))
}

/// Writes `text` to `bench/results/WHAT-DATE-COMMIT.md` (a failure is reported, not fatal:
/// the table was printed already).
pub fn write_record(what: &str, date: &str, commit: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../bench/results")
        .join(format!("{what}-{date}-{commit}.md"));
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
