//! What a job tells while it runs and when it ends: diagnostics on stderr, the progress
//! bar, the summary line (or JSON), the `--stats` table, the engine fallbacks counted, and
//! the Prometheus endpoint of `--metrics-addr`.

pub mod fallbacks;
pub mod logging;
pub mod metrics;
pub mod progress;
pub mod stats;
pub mod summary;
