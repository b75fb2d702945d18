//! Where a job's data comes from and goes: streams and containers to decode (files, stdin
//! with an optional timeout, files still being written), pictures to encode (Y4M, raw
//! frames, the network, a synthetic pattern), and the outputs (raw frames, framemd5
//! lines, Annex-B, containers).

pub mod follow;
pub mod input;
pub mod net;
pub mod output;
pub mod pictures;
pub mod stdin;
pub mod synthetic;
pub mod y4m;
