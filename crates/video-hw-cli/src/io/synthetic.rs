//! A moving test pattern made in-process (`encode --synthetic N`): diagonal luma bands
//! that scroll, a bright square that bounces, chroma gradients that drift. Deterministic:
//! frame `i` is always the same picture.

use video_hw::frame::HostFrame;
use video_hw::{Frame, PixelFormat};

/// Frame `index` of the pattern, I420, `width` x `height` (both even).
pub fn frame(width: u32, height: u32, index: u64) -> Frame {
    let (w, h) = (width as usize, height as usize);
    let t = index as usize;
    let mut pixels = HostFrame::new_packed(PixelFormat::Yuv420p, width, height);
    let square = (w.min(h) / 4).max(2);
    let bounce = |pos: usize, span: usize| {
        let span = span.max(1);
        let p = pos % (2 * span);
        if p < span { p } else { 2 * span - p }
    };
    let (sx, sy) = (bounce(t * 5, w.saturating_sub(square)), bounce(t * 3, h.saturating_sub(square)));
    for y in 0..h {
        let row = pixels.row_mut(0, y);
        for (x, px) in row.iter_mut().enumerate() {
            let inside = (sx..sx + square).contains(&x) && (sy..sy + square).contains(&y);
            *px = if inside { 235 } else { 16 + ((x + y + 4 * t) % 200) as u8 };
        }
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    for y in 0..ch {
        for (x, px) in pixels.row_mut(1, y).iter_mut().enumerate() {
            *px = 64 + ((x * 128 / cw.max(1) + t) % 128) as u8;
        }
        let v = 64 + ((y * 128 / ch.max(1) + 2 * t) % 128) as u8;
        pixels.row_mut(2, y).fill(v);
    }
    Frame::host(PixelFormat::Yuv420p, width, height, pixels)
}

#[cfg(test)]
mod tests {
    #[test]
    fn frames_move_and_repeat() {
        let a = super::frame(64, 36, 0);
        let b = super::frame(64, 36, 1);
        let a2 = super::frame(64, 36, 0);
        let bytes = |f: &video_hw::Frame| f.host_data().unwrap().as_bytes().to_vec();
        assert_ne!(bytes(&a), bytes(&b));
        assert_eq!(bytes(&a), bytes(&a2));
        assert_eq!(bytes(&a).len(), 64 * 36 * 3 / 2);
    }
}
