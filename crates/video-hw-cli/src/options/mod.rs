//! The subcommands' arguments (clap), and the value parsers that turn option values that
//! make no sense into usage errors (exit 2). Below the commands that read them.

pub mod common;
pub mod decode;
pub mod encode;
pub mod fragment;
pub mod transcode;
pub mod transform;
