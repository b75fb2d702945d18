//! `probe` and `cut`: stream facts from headers, and the first whole GOPs of a stream.

use serde_json::{Value, json};
use video_hw::Codec;
use video_hw::bitstream::access_unit::AccessUnitAssembler;

use crate::args::Args;
use crate::util::load_input;

pub(crate) fn probe(a: &Args) -> Result<(Value, bool), String> {
    let facts: Vec<Value> = a.inputs.iter().map(|p| load_input(p).map(|i| i.facts)).collect::<Result<_, _>>()?;
    Ok((json!({"tool": "video-hw", "mode": "probe", "inputs": facts}), true))
}

/// Byte offsets (of the start code) where each keyframe access unit starts.
pub(crate) fn keyframe_offsets(data: &[u8], codec: Codec) -> Result<Vec<usize>, String> {
    let mut asm = AccessUnitAssembler::new(codec).map_err(|e| e.to_string())?.collect_data(false);
    let mut out = Vec::new();
    let mut take = |asm: &mut AccessUnitAssembler| {
        while let Some(item) = asm.pop() {
            if let Ok(au) = item
                && au.is_keyframe()
            {
                out.push(start_code_before(data, au.offset as usize));
            }
        }
    };
    for piece in data.chunks(4 << 20) {
        asm.push_annexb(piece, None);
        take(&mut asm);
    }
    asm.finish();
    take(&mut asm);
    Ok(out)
}

/// Moves `offset` (first byte of a NAL unit) back over its start code.
pub(crate) fn start_code_before(data: &[u8], offset: usize) -> usize {
    let offset = offset.min(data.len());
    if offset >= 4 && data[offset - 4..offset] == [0, 0, 0, 1] {
        offset - 4
    } else if offset >= 3 && data[offset - 3..offset] == [0, 0, 1] {
        offset - 3
    } else {
        offset
    }
}

/// Where to cut to keep whole GOPs: before the `gops`-th keyframe after the first, and
/// (with `max_bytes`) at the last keyframe that keeps the output within it — but always
/// at least one GOP. `None` when the stream has a single GOP (nothing to cut).
pub(crate) fn cut_point(
    keyframes: &[usize],
    len: usize,
    gops: Option<usize>,
    max_bytes: Option<usize>,
) -> Option<usize> {
    let starts: Vec<usize> = keyframes.iter().copied().filter(|&k| k > 0 && k < len).collect();
    let mut cut = len;
    if let Some(g) = gops
        && let Some(&k) = starts.get(g.max(1) - 1)
    {
        cut = k;
    }
    if let Some(max) = max_bytes
        && cut > max
    {
        cut = starts.iter().copied().rfind(|&k| k <= max).or(starts.first().copied()).unwrap_or(len);
    }
    (cut < len).then_some(cut)
}

pub(crate) fn cut(a: &Args) -> Result<(Value, bool), String> {
    let input = load_input(&a.inputs[0])?;
    let keys = keyframe_offsets(&input.data, input.codec)?;
    let at = cut_point(&keys, input.data.len(), a.gops, a.max_bytes).unwrap_or(input.data.len());
    let out = a.out.as_ref().expect("checked in parse_args");
    std::fs::write(out, &input.data[..at]).map_err(|e| format!("{}: {e}", out.display()))?;
    let written = load_input(out)?;
    Ok((json!({"tool": "video-hw", "mode": "cut", "from": input.facts, "to": written.facts}), true))
}
