//! The subcommands, one folder or file each: what a job does, from its options to its
//! exit status. They read their options from `options`, their inputs and outputs through
//! `io`, and report through `report`.

pub mod decode;
pub mod encode;
pub mod info;
pub mod probe;
pub mod transcode;
