//! Diagnostics on stderr: the `tracing` subscriber the job logs through.

/// Diagnostics on stderr, one line each, and the `VIDEO_HW_*` values that were not used
/// ([`video_hw::env`]). At the default levels (warn, error) a line is
/// the level and the message (the registry's fallback WARN names from, to and why in its
/// message); at info and below the structured fields follow.
pub fn init(level: &str, quiet: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::debug_fn;
    let level = if quiet { "error" } else { level };
    // `VIDEO_HW_LOG` (tracing directives) over `--log-level`; one that does not parse is
    // ignored, as before.
    let filter = video_hw::env::settings()
        .log
        .as_deref()
        .and_then(|d| EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time();
    if matches!(level.to_ascii_lowercase().as_str(), "warn" | "error" | "off") {
        let message_only =
            debug_fn(|w, field, value| if field.name() == "message" { write!(w, "{value:?}") } else { Ok(()) });
        let _ = builder.fmt_fields(message_only).try_init();
    } else {
        let _ = builder.try_init();
    }
    // The environment was read above, before there was a subscriber to hear its warnings.
    for problem in &video_hw::env::settings().problems {
        tracing::warn!("{problem}");
    }
}
