//! The metadata a decoder reports: what the container and the parameter sets say of the
//! video track, and what its frame index counts.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use video_hw::bitstream::access_unit::StreamInfo;
use video_hw::media::{Container, FrameIndex};

/// The metadata as a dict (the Python side makes it a `VideoMetadata`).
pub fn metadata<'py>(
    py: Python<'py>,
    container: Container,
    index: &FrameIndex,
    info: Option<&StreamInfo>,
) -> PyResult<Bound<'py, PyDict>> {
    let track = index.track();
    let frames = index.frames();
    let begin = frames.first().map(|f| index.seconds(f.pts));
    let end = frames.last().map(|f| index.seconds(f.pts.saturating_add(f.duration)));
    let duration = begin.zip(end).map(|(b, e)| e - b);
    let fps = match (duration, frames.len()) {
        (Some(d), n) if d > 0.0 && n > 0 => Some(n as f64 / d),
        _ => track.frame_rate.map(|r| r.as_f64()),
    };
    let d = PyDict::new(py);
    d.set_item("container", container.name())?;
    d.set_item("codec", track.codec.name())?;
    d.set_item("stream_index", track.index)?;
    d.set_item("width", info.map(|i| i.dimensions.width()).or(track.video.map(|v| v.width)))?;
    d.set_item("height", info.map(|i| i.dimensions.height()).or(track.video.map(|v| v.height)))?;
    d.set_item("num_frames", frames.len())?;
    d.set_item("num_key_frames", index.keyframes())?;
    d.set_item("average_fps", fps)?;
    d.set_item("duration_seconds", duration)?;
    d.set_item("begin_stream_seconds", begin)?;
    d.set_item("end_stream_seconds", end)?;
    d.set_item("bit_depth", info.map(|i| i.bit_depth_luma))?;
    d.set_item("rotation", track.video.map(|v| v.rotation))?;
    d.set_item("profile", info.map(|i| i.profile.clone()))?;
    // Where a file damaged part-way stops being readable (the frames before it are all here).
    d.set_item("damage", index.damage())?;
    if let Some(i) = info {
        let c = PyDict::new(py);
        c.set_item("primaries", i.color.primaries.0)?;
        c.set_item("transfer", i.color.transfer.0)?;
        c.set_item("matrix", i.color.matrix.0)?;
        c.set_item("range", if i.color.range == video_hw::ColorRange::Full { "full" } else { "limited" })?;
        d.set_item("color", c)?;
    } else {
        d.set_item("color", py.None())?;
    }
    Ok(d)
}
