//! Live input from the network for `encode`: `tcp://HOST:PORT` connects to a sender,
//! `tcp-listen://HOST:PORT` accepts one. The stream is then read like stdin (Y4M, or raw
//! frames with `--size`/`--fps`); the sender closing the connection ends the input.

use std::net::{TcpListener, TcpStream};
use std::path::Path;

use video_hw::Error;

use crate::exit::{CliResult, usage};

/// The connection `path` names, or `None` when it is not a network address.
pub fn open(path: &Path) -> CliResult<Option<TcpStream>> {
    let Some(text) = path.to_str() else { return Ok(None) };
    if let Some(addr) = text.strip_prefix("tcp://") {
        check(addr)?;
        let stream = TcpStream::connect(addr)
            .map_err(|e| Error::from(std::io::Error::new(e.kind(), format!("cannot connect to {addr}: {e}"))))?;
        return Ok(Some(stream));
    }
    if let Some(addr) = text.strip_prefix("tcp-listen://") {
        check(addr)?;
        let listener = TcpListener::bind(addr)
            .map_err(|e| Error::from(std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))))?;
        tracing::info!("waiting for a sender on {}", listener.local_addr().map_or(addr.to_string(), |a| a.to_string()));
        let (stream, peer) = listener.accept().map_err(Error::from)?;
        tracing::info!("sender {peer} connected");
        return Ok(Some(stream));
    }
    Ok(None)
}

fn check(addr: &str) -> CliResult<()> {
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(usage(format!("'{addr}': a network input is HOST:PORT"))),
    }
}
