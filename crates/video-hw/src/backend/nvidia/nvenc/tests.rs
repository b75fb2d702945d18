//! The session state machine driven by the FAKE NVENC of `fake.rs`.
