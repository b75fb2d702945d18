//! What the library adds to the containers (the crate `video-hw-media`, re-exported as
//! `video_hw::media`), because the crate cannot do it itself: it knows no decoder and reads
//! no environment.
//!
//! - A track's decoder configuration ([`DecoderConfig::for_track`], and
//!   [`TrackDecoderConfig`] for the spelling `track.decoder_config()` it had as a method of
//!   `Track`).
//! - The frame-index cache's defaults: `VIDEO_HW_INDEX_CACHE` and the user's cache folder,
//!   read by [`crate::env`] (the one reader of the environment) and handed to the media crate
//!   ([`install_cache_environment`]) before [`index_cache`] resolves a setting.

use crate::config::DecoderConfig;
use crate::media::Track;
use crate::media::index::{CacheEnvironment, IndexCache, install_environment};

/// [`DecoderConfig::for_track`] as a method of the track, as it was one before the
/// demuxers became a crate of their own: `track.decoder_config()` with this trait in scope
/// (`use video_hw::media::TrackDecoderConfig`).
pub trait TrackDecoderConfig {
    /// A decoder configuration for this track ([`DecoderConfig::for_track`]).
    fn decoder_config(&self) -> Option<DecoderConfig>;
}

impl TrackDecoderConfig for Track {
    fn decoder_config(&self) -> Option<DecoderConfig> {
        DecoderConfig::for_track(self)
    }
}

impl DecoderConfig {
    /// A decoder configuration for a demuxer's track: its codec, and for the codecs only
    /// the FFmpeg engine decodes its [`extradata`](Track::extradata) and picture size.
    /// `None` for a track in no codec the decoders know.
    pub fn for_track(track: &Track) -> Option<Self> {
        let codec = track.codec.video()?;
        Some(
            DecoderConfig::new(codec)
                .extradata(track.extradata())
                .picture_size(track.video.map(|v| (v.width, v.height))),
        )
    }
}

/// Hands the process's index-cache defaults to the media crate: `VIDEO_HW_INDEX_CACHE`
/// ([`Settings::index_cache`](crate::env::Settings::index_cache)) and the default folder
/// ([`crate::env::index_dir`]), which `IndexCache::parse("on")` and `IndexCache::Auto`
/// (and the deprecated `IndexCache::from_env` and `IndexCache::default_dir`) use from then
/// on. The first call counts; [`index_cache`] and `FrameReader::open` make it.
pub fn install_cache_environment() {
    install_environment(CacheEnvironment {
        setting: || crate::env::settings().index_cache.clone(),
        default_dir: crate::env::index_dir,
    });
}

/// The frame-index cache setting: `setting` read as [`IndexCache::parse`] reads one, or
/// where `None` the process-wide default (`VIDEO_HW_INDEX_CACHE`, `auto` where unset),
/// after [`install_cache_environment`].
pub fn index_cache(setting: Option<&str>) -> IndexCache {
    install_cache_environment();
    setting.map_or_else(|| IndexCache::from_value(crate::env::settings().index_cache.as_deref()), IndexCache::parse)
}
