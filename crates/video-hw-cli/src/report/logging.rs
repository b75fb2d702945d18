//! Diagnostics on stderr: the `tracing` subscriber the job logs through.

/// Diagnostics on stderr, one line each. At the default levels (warn, error) a line is
/// the level and the message (the registry's fallback WARN names from, to and why in its
/// message); at info and below the structured fields follow.
pub fn init(level: &str, quiet: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    use tracing_subscriber::fmt::format::debug_fn;
    let level = if quiet { "error" } else { level };
    let filter = EnvFilter::try_from_env("VIDEO_HW_LOG").unwrap_or_else(|_| EnvFilter::new(level));
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
}
