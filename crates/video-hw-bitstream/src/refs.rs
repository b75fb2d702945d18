//! What a reference tracker (`h264::RefTracker`, `hevc::RefTracker`) says of each picture.

/// Which earlier pictures one picture predicts from, as a tracker found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureRefs {
    /// The picture's number: pictures are counted from 0 in the order given.
    pub picture: usize,
    /// True when later pictures may predict from it (H.264 `nal_ref_idc` ≠ 0; HEVC: not a
    /// sub-layer non-reference picture, which pictures of higher temporal sub-layers may
    /// still predict from: exact for streams of one sub-layer, the only HEVC streams the
    /// reader prunes).
    pub reference: bool,
    /// The numbers of the pictures it predicts from, ascending: those its slices'
    /// reference lists hold.
    pub refs: Vec<usize>,
}
