//! The plain records every layer speaks: codecs, stream geometry, timebases and colour
//! ([`codec`]), encoded packets ([`packet`]), and what an engine's probe learnt
//! (`probe_info`). The crate root names the public ones as it always has
//! (`video_hw::codec`, `video_hw::packet`); this folder only groups their files.

pub mod codec;
pub mod packet;
pub(crate) mod probe_info;
