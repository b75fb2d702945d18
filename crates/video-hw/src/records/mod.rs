//! The plain records: what an engine's probe learnt (`probe_info`). The records every layer
//! speaks, codecs, stream geometry, timebases and colour ([`crate::codec`]) and encoded
//! packets ([`crate::packet`]), are in the plain-types crate (`crates/video-hw-types`),
//! which the crate root re-exports at the paths they have always had.

pub(crate) mod probe_info;
