//! Which pictures a decoder shows when an H.264 stream starts at a recovery point (a
//! non-IDR I picture with a recovery point SEI, as in a cut transport stream) rather than
//! at an IDR picture.

use crate::access_unit::PictureInfo;

/// The start rule of ffmpeg's demuxers and of the hardware decoders: the recovery point
/// picture and what follows it are shown, except its leading pictures (decoded after it,
/// shown before it: a lower order count) until the next IDR; nothing before the first
/// random access point is shown. [`PictureInfo::output`](crate::access_unit::PictureInfo::output)
/// follows ffmpeg's raw-stream decoder instead, which forgets the first picture's recovery
/// point and waits for the next one; once a stream has had an IDR the two agree.
#[derive(Debug, Default, Clone)]
#[doc(hidden)]
pub struct RecoveryStart {
    /// An IDR or a random access point was seen: pictures can be shown.
    started: bool,
    /// The stream started at a recovery point with this order count, and no IDR came yet.
    started_at: Option<i32>,
}

impl RecoveryStart {
    /// Whether `p`, the next picture in decoding order, is shown: [`shows`](Self::shows)
    /// with the parser's facts of it (a frame's second field adds no frame).
    #[doc(hidden)]
    pub fn shows_picture(&mut self, p: &PictureInfo) -> bool {
        let new_frame = !p.second_field;
        self.shows(p.idr, p.irap, p.poc.unwrap_or(0), p.output && new_frame, new_frame)
    }

    /// Whether the next picture in decoding order is shown. `shows`: what the parser
    /// says; `random_access`: an IDR or recovery point; `new_frame`: not the second field
    /// of a pair.
    #[doc(hidden)]
    pub fn shows(&mut self, idr: bool, random_access: bool, poc: i32, shows: bool, new_frame: bool) -> bool {
        if idr {
            self.started = true;
            self.started_at = None;
            return shows;
        }
        if !self.started {
            if random_access {
                self.started = true;
                self.started_at = Some(poc);
                return new_frame;
            }
            return false;
        }
        match self.started_at {
            Some(first) => new_frame && poc > first,
            None => shows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_point_start_shows_it_and_what_follows_but_not_its_leading_pictures() {
        let mut s = RecoveryStart::default();
        // A P picture before any random access point: not shown.
        assert!(!s.shows(false, false, 4, true, true));
        // The recovery point (the parser, like ffmpeg's raw-stream decoder, says no).
        assert!(s.shows(false, true, 20, false, true));
        // Leading B pictures (lower order count): not shown; later ones are.
        assert!(!s.shows(false, false, 16, false, true));
        assert!(s.shows(false, false, 26, false, true));
        assert!(s.shows(false, false, 22, false, true));
        // After an IDR the parser decides again.
        assert!(!s.shows(true, true, 0, false, true));
        assert!(s.shows(false, false, 2, true, true));
    }
}
