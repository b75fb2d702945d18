//! Planning a random access: which packets to decode, in how many independent runs, so
//! every frame asked for comes out exactly and nothing else is decoded.
//!
//! A frame needs its packet and every packet from the random access point it depends on
//! ([`FrameIndex::start_packet`](crate::media::FrameIndex::start_packet)). The plan sorts
//! and de-duplicates the frames, takes for each the packet range
//! `[start, packet]`, and merges ranges that touch or overlap into one run, so each GOP is
//! decoded once however many of its frames are asked for. The packets decoded are then
//! exactly the union of the ranges: the least the GOP structure allows.

/// One stretch of packets decoded in one go, from a random access point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// First packet fed (a random access point), in decode order.
    pub start: usize,
    /// Last packet fed.
    pub end: usize,
    /// The frames (presentation numbers) this run delivers, ascending.
    pub frames: Vec<usize>,
}

impl Run {
    /// Packets the run feeds to the decoder.
    pub fn packets(&self) -> usize {
        self.end + 1 - self.start
    }
}

/// Plans the decode of `frames` (presentation numbers, any order, repeats allowed):
/// `start_of(f)` is the packet decoding must start at for frame `f`, `end_of(f)` the last
/// packet it needs (its own, or its second field's; `FrameIndex::last_packet`). Runs come
/// in decode order.
pub fn plan(frames: &[usize], start_of: impl Fn(usize) -> usize, end_of: impl Fn(usize) -> usize) -> Vec<Run> {
    let mut wanted: Vec<(usize, usize, usize)> = frames.iter().map(|&f| (start_of(f), end_of(f), f)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut runs: Vec<Run> = Vec::new();
    for (start, packet, frame) in wanted {
        match runs.last_mut() {
            // Starts inside (or right after) the previous run's packets: decoding on
            // through its random access point gives the same pictures.
            Some(run) if start <= run.end + 1 => {
                run.end = run.end.max(packet);
                run.frames.push(frame);
            }
            _ => runs.push(Run { start, end: packet.max(start), frames: vec![frame] }),
        }
    }
    for run in &mut runs {
        run.frames.sort_unstable();
        run.frames.dedup();
    }
    runs
}

/// The order in which independent `runs` go to several sessions: the longest first (ties
/// in decode order). Why: the sessions take the runs from one queue as each comes free, so
/// a long run taken last starts when the first session is free and ends alone, while the
/// others idle. Eight clips of a long file on seven NVDEC sessions, a clip's run 16 to 250
/// packets long by where it starts in its GOP, finish after the longest run, not after a
/// short one and a long one back to back. (Sessions also come free one at a time at the
/// start, as the driver makes their decoders one by one: the first free takes the longest.)
pub(crate) fn longest_first(runs: &[Run]) -> Vec<&Run> {
    let mut order: Vec<&Run> = runs.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(r.packets()));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream of GOPs of `gop` packets, key at each GOP's first packet, frame f coded by
    /// packet f (no reordering).
    fn simple(gop: usize) -> (impl Fn(usize) -> usize, impl Fn(usize) -> usize) {
        (move |f: usize| f / gop * gop, |f: usize| f)
    }

    #[test]
    fn one_gop_is_decoded_once() {
        let (s, p) = simple(10);
        let runs = plan(&[7, 3, 3, 5], s, p);
        assert_eq!(runs, vec![Run { start: 0, end: 7, frames: vec![3, 5, 7] }]);
        assert_eq!(runs[0].packets(), 8);
    }

    #[test]
    fn far_apart_frames_are_separate_runs() {
        let (s, p) = simple(10);
        let runs = plan(&[35, 2, 71], s, p);
        let spans: Vec<(usize, usize)> = runs.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(spans, vec![(0, 2), (30, 35), (70, 71)]);
        assert_eq!(runs.iter().map(Run::packets).sum::<usize>(), 3 + 6 + 2);
    }

    #[test]
    fn touching_runs_merge() {
        let (s, p) = simple(10);
        // Frame 9 needs packets 0..=9; frame 12 starts at 10: one run 0..=12.
        let runs = plan(&[12, 9], s, p);
        assert_eq!(runs, vec![Run { start: 0, end: 12, frames: vec![9, 12] }]);
    }

    #[test]
    fn runs_go_to_the_sessions_longest_first_ties_in_decode_order() {
        let (s, p) = simple(250);
        // Clips of 16 frames at even places of a 15,000-frame file, as a regular sampler
        // asks them: runs of 16 to 250 packets by where each starts in its GOP.
        let frames: Vec<usize> =
            [0, 2140, 4280, 6425, 8570, 10710, 12855, 14984].iter().flat_map(|&c| c..c + 16).collect();
        let runs = plan(&frames, s, p);
        let lengths: Vec<usize> = longest_first(&runs).iter().map(|r| r.packets()).collect();
        assert_eq!(lengths, vec![250, 226, 191, 156, 121, 86, 46, 16]);
        let (s, p) = simple(10);
        let runs = plan(&[3, 13, 27, 45], s, p);
        let starts: Vec<usize> = longest_first(&runs).iter().map(|r| r.start).collect();
        assert_eq!(starts, vec![20, 40, 0, 10], "7 and 6 packets, then two of 4 in decode order");
    }

    #[test]
    fn leading_pictures_start_a_gop_earlier() {
        // Open GOP: frame 8 is a leading picture of the key at packet 10 (coded by packet
        // 11), so it starts at the previous key (0).
        let start = |f: usize| if f == 8 { 0 } else { f / 10 * 10 };
        let packet = |f: usize| if f == 8 { 11 } else { f };
        let runs = plan(&[8, 15], start, packet);
        assert_eq!(runs, vec![Run { start: 0, end: 15, frames: vec![8, 15] }]);
    }
}
