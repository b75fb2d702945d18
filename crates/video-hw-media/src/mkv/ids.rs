//! Matroska element IDs (RFC 9559), shared by the demuxer and the muxer.

/// The EBML header, first in the file.
pub const EBML: u32 = 0x1A45_DFA3;
/// The document type (`matroska`, `webm`).
pub const DOC_TYPE: u32 = 0x4282;
/// The Segment: everything else.
pub const SEGMENT: u32 = 0x1853_8067;
/// An index of where the other level-1 elements are.
pub const SEEK_HEAD: u32 = 0x114D_9B74;
/// One entry of a SeekHead.
pub const SEEK: u32 = 0x4DBB;
/// The ID of the element a Seek points at.
pub const SEEK_ID: u32 = 0x53AB;
/// Where a Seek points, from the start of the Segment's data.
pub const SEEK_POSITION: u32 = 0x53AC;
/// Segment information.
pub const INFO: u32 = 0x1549_A966;
/// Nanoseconds per timestamp tick.
pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
/// The Segment's duration in ticks (a float).
pub const DURATION: u32 = 0x4489;
/// The tracks.
pub const TRACKS: u32 = 0x1654_AE6B;
/// One track.
pub const TRACK_ENTRY: u32 = 0xAE;
/// The number blocks name a track by.
pub const TRACK_NUMBER: u32 = 0xD7;
/// 1 video, 2 audio, 0x11 subtitle, …
pub const TRACK_TYPE: u32 = 0x83;
/// The codec (`V_MPEG4/ISO/AVC`, `A_OPUS`, …).
pub const CODEC_ID: u32 = 0x86;
/// The codec's configuration.
pub const CODEC_PRIVATE: u32 = 0x63A2;
/// Nanoseconds per frame.
pub const DEFAULT_DURATION: u32 = 0x23_E383;
/// ISO 639-2 language.
pub const LANGUAGE: u32 = 0x22_B59C;
/// Whether a track is one to play by default (1 where absent).
pub const FLAG_DEFAULT: u32 = 0x88;
/// BCP 47 language (read where `Language` is absent or "und": `tracks::language`).
pub const LANGUAGE_BCP47: u32 = 0x22_B59D;
/// Video settings.
pub const VIDEO: u32 = 0xE0;
/// Coded width.
pub const PIXEL_WIDTH: u32 = 0xB0;
/// Coded height.
pub const PIXEL_HEIGHT: u32 = 0xBA;
/// Display width (in `DisplayUnit`s).
pub const DISPLAY_WIDTH: u32 = 0x54B0;
/// Display height.
pub const DISPLAY_HEIGHT: u32 = 0x54BA;
/// Video projection (a master: type, private data, pose).
pub const PROJECTION: u32 = 0x7670;
/// Projection type: 0 rectangular (flat), 1 equirectangular, 2 cubemap, 3 mesh.
pub const PROJECTION_TYPE: u32 = 0x7671;
/// Projection pose yaw, degrees (a float).
pub const PROJECTION_POSE_YAW: u32 = 0x7673;
/// Projection pose pitch, degrees (a float).
pub const PROJECTION_POSE_PITCH: u32 = 0x7674;
/// Projection pose roll, degrees counter-clockwise (a float).
pub const PROJECTION_POSE_ROLL: u32 = 0x7675;
/// Audio settings.
pub const AUDIO: u32 = 0xE1;
/// Samples per second (a float).
pub const SAMPLING_FREQUENCY: u32 = 0xB5;
/// Channels.
pub const CHANNELS: u32 = 0x9F;
/// How the track's frames are stored (compression, encryption).
pub const CONTENT_ENCODINGS: u32 = 0x6D80;
/// One content encoding.
pub const CONTENT_ENCODING: u32 = 0x6240;
/// What a content encoding applies to (1 frames, 2 CodecPrivate).
pub const CONTENT_ENCODING_SCOPE: u32 = 0x5032;
/// 0 compression, 1 encryption.
pub const CONTENT_ENCODING_TYPE: u32 = 0x5033;
/// Compression settings.
pub const CONTENT_COMPRESSION: u32 = 0x5034;
/// 0 zlib, 1 bzlib, 2 lzo1x, 3 header stripping.
pub const CONTENT_COMP_ALGO: u32 = 0x4254;
/// The bytes header stripping removed from every frame.
pub const CONTENT_COMP_SETTINGS: u32 = 0x4255;
/// Encryption settings.
pub const CONTENT_ENCRYPTION: u32 = 0x5035;
/// A cluster of blocks.
pub const CLUSTER: u32 = 0x1F43_B675;
/// The cluster's timestamp, in ticks.
pub const TIMESTAMP: u32 = 0xE7;
/// A block with its keyframe flag in its header.
pub const SIMPLE_BLOCK: u32 = 0xA3;
/// A block with more facts beside it.
pub const BLOCK_GROUP: u32 = 0xA0;
/// The block of a BlockGroup.
pub const BLOCK: u32 = 0xA1;
/// A BlockGroup's duration, in ticks.
pub const BLOCK_DURATION: u32 = 0x9B;
/// Nanoseconds of audio to drop from the end of a BlockGroup's frame (Opus end padding).
pub const DISCARD_PADDING: u32 = 0x75A2;
/// A frame the block refers to (so not a keyframe).
pub const REFERENCE_BLOCK: u32 = 0xFB;
/// The index of keyframes.
pub const CUES: u32 = 0x1C53_BB6B;
/// Chapters.
pub const CHAPTERS: u32 = 0x1043_A770;
/// Tags.
pub const TAGS: u32 = 0x1254_C367;
/// Attached files.
pub const ATTACHMENTS: u32 = 0x1941_A469;
/// Padding.
pub const VOID: u32 = 0xEC;
/// A checksum of the parent's other children.
pub const CRC32: u32 = 0xBF;
/// The EBML version (1).
pub const EBML_VERSION: u32 = 0x4286;
/// The EBML version a reader needs (1).
pub const EBML_READ_VERSION: u32 = 0x42F7;
/// The longest element ID in bytes (4).
pub const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
/// The longest size field in bytes (8).
pub const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
/// The document type version the file uses.
pub const DOC_TYPE_VERSION: u32 = 0x4287;
/// The document type version a reader needs.
pub const DOC_TYPE_READ_VERSION: u32 = 0x4285;
/// The library that wrote the file.
pub const MUXING_APP: u32 = 0x4D80;
/// The application that wrote the file.
pub const WRITING_APP: u32 = 0x5741;
/// A track's unique id.
pub const TRACK_UID: u32 = 0x73C5;
/// Whether a track may use lacing.
pub const FLAG_LACING: u32 = 0x9C;
/// Nanoseconds of codec delay (Opus pre-skip).
pub const CODEC_DELAY: u32 = 0x56AA;
/// Nanoseconds to decode before a seek target (Opus: 80 ms).
pub const SEEK_PRE_ROLL: u32 = 0x56BB;
/// One Cues entry.
pub const CUE_POINT: u32 = 0xBB;
/// The timestamp a CuePoint is for.
pub const CUE_TIME: u32 = 0xB3;
/// Where a CuePoint's track is found.
pub const CUE_TRACK_POSITIONS: u32 = 0xB7;
/// The track a CueTrackPositions is for.
pub const CUE_TRACK: u32 = 0xF7;
/// The Cluster's offset from the Segment's data.
pub const CUE_CLUSTER_POSITION: u32 = 0xF1;
/// The block's offset inside its Cluster.
pub const CUE_RELATIVE_POSITION: u32 = 0xF0;
