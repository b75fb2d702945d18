//! What engines report upward when probed: a plain record the backends fill and the
//! registry caches and shows (re-exported as [`crate::registry::ProbeInfo`]). It lives
//! below the backends so that they need nothing from the registry above them.

/// What a successful probe learnt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeInfo {
    /// Device the engine runs on ("GPU 0: NVIDIA H200"), if any.
    pub device: Option<String>,
    /// Driver or library version, where relevant.
    pub driver: Option<String>,
    /// Caveats a user should know (e.g. "not bit-exact on B-frames").
    pub notes: Vec<String>,
}
