//! The demuxer on transport streams built here, byte by byte: framing and resync, M2TS,
//! sections across packets, ADTS splitting, 33-bit unwrapping, PES with and without a
//! length, truncation and damaged headers.

use std::collections::HashMap;

use super::psi::crc32;
use crate::{AudioCodec, CodecConfig, Demuxer, MediaPacket, TrackCodec};
use video_hw_types::error::Error;

const VIDEO: u16 = 0x100;
const AUDIO: u16 = 0x101;
const PMT: u16 = 0x1000;

/// Writes transport streams.
#[derive(Default)]
struct Mux {
    out: Vec<u8>,
    cc: HashMap<u16, u8>,
    /// 192-byte units (a 4-byte prefix before each packet).
    m2ts: bool,
}

impl Mux {
    /// One packet: header, adaptation field stuffing to fill it, `payload` (≤ 184 bytes).
    fn packet(&mut self, pid: u16, start: bool, random_access: bool, payload: &[u8]) {
        assert!(payload.len() <= 184);
        if self.m2ts {
            self.out.extend([0x12, 0x34, 0x56, 0x78]);
        }
        let cc = self.cc.entry(pid).or_insert(0);
        let need_af = payload.len() < 184 || random_access;
        let afc = if need_af { 0x30 } else { 0x10 };
        self.out.extend([0x47, (u8::from(start) << 6) | (pid >> 8) as u8, pid as u8, afc | *cc]);
        *cc = (*cc + 1) & 0x0f;
        if need_af {
            let len = 183 - payload.len();
            self.out.push(len as u8);
            if len > 0 {
                self.out.push(if random_access { 0x40 } else { 0 });
                self.out.extend(std::iter::repeat_n(0xff, len - 1));
            }
        }
        self.out.extend(payload);
    }

    /// A PSI section on `pid`, pointer_field 0, over as many packets as it takes.
    fn section(&mut self, pid: u16, section: &[u8]) {
        let mut data = vec![0u8];
        data.extend(section);
        for (i, chunk) in data.chunks(184).enumerate() {
            let mut p = chunk.to_vec();
            p.resize(184, 0xff);
            self.packet(pid, i == 0, false, &p);
        }
    }

    /// PAT (program 1 on `PMT`) and a PMT listing `streams` (type, PID, descriptors).
    fn tables(&mut self, streams: &[(u8, u16, &[u8])]) {
        self.section(0, &long_section(0, 1, &[0, 1, 0xe0 | (PMT >> 8) as u8, PMT as u8]));
        let mut body = vec![0xe0 | (VIDEO >> 8) as u8, VIDEO as u8, 0xf0, 0];
        for &(t, pid, d) in streams {
            body.extend([t, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0 | (d.len() >> 8) as u8, d.len() as u8]);
            body.extend(d);
        }
        self.section(PMT, &long_section(2, 1, &body));
    }

    /// A PES on `pid` with `data`; `bounded` writes PES_packet_length.
    fn pes(&mut self, pid: u16, pts: u64, dts: Option<u64>, data: &[u8], bounded: bool, random_access: bool) {
        let mut pes = pes_header(pid == VIDEO, pts, dts, data.len(), bounded);
        pes.extend(data);
        // The flag needs an adaptation field: 2 bytes less payload in the first packet.
        let first = pes.len().min(if random_access { 182 } else { 184 });
        self.packet(pid, true, random_access, &pes[..first]);
        for chunk in pes[first..].chunks(184) {
            self.packet(pid, false, false, chunk);
        }
    }
}

/// A long-form section with its CRC.
fn long_section(table_id: u8, id: u16, body: &[u8]) -> Vec<u8> {
    let len = 5 + body.len() + 4;
    let mut s = vec![table_id, 0xb0 | (len >> 8) as u8, len as u8];
    s.extend(id.to_be_bytes());
    s.extend([0xc1, 0, 0]);
    s.extend(body);
    s.extend(crc32(&s).to_be_bytes());
    s
}

/// A 5-byte PES timestamp with `marker` in the top nibble.
fn ts_bytes(marker: u8, t: u64) -> [u8; 5] {
    [
        (marker << 4) | ((t >> 29) as u8 & 0x0e) | 1,
        (t >> 22) as u8,
        ((t >> 14) as u8 & 0xfe) | 1,
        (t >> 7) as u8,
        ((t << 1) as u8) | 1,
    ]
}

fn pes_header(video: bool, pts: u64, dts: Option<u64>, len: usize, bounded: bool) -> Vec<u8> {
    let hdl = if dts.is_some() { 10 } else { 5 };
    let packet_len = if bounded { len + 3 + hdl } else { 0 };
    let mut h = vec![0, 0, 1, if video { 0xe0 } else { 0xc0 }, (packet_len >> 8) as u8, packet_len as u8, 0x80];
    h.push(if dts.is_some() { 0xc0 } else { 0x80 });
    h.push(hdl as u8);
    h.extend(ts_bytes(if dts.is_some() { 3 } else { 2 }, pts));
    if let Some(d) = dts {
        h.extend(ts_bytes(1, d));
    }
    h
}

/// An H.264 access unit: AUD, then an IDR or a non-IDR slice of `len` bytes.
fn access_unit(idr: bool, len: usize) -> Vec<u8> {
    let mut au = vec![0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, if idr { 0x65 } else { 0x41 }];
    au.resize(len, 0x5a);
    au
}

/// An ADTS frame: AAC LC, 48 kHz, stereo, `body`.
fn adts(body: &[u8]) -> Vec<u8> {
    let len = 7 + body.len();
    let mut f = vec![0xff, 0xf1, 0x4c, 0x80 | (len >> 11) as u8, (len >> 3) as u8, ((len as u8) << 5) | 0x1f, 0xfc];
    f.extend(body);
    f
}

/// A stream with video (an IDR, then `n - 1` P pictures, 3600 ticks apart from `start`)
/// and AAC (two ADTS frames per PES).
fn stream(m2ts: bool, n: usize, start: u64) -> Vec<u8> {
    let mut m = Mux { m2ts, ..Mux::default() };
    m.tables(&[(0x1b, VIDEO, &[]), (0x0f, AUDIO, &[0x0a, 4, b'f', b'r', b'a', 0])]);
    for i in 0..n as u64 {
        let t = (start + i * 3600) & ((1 << 33) - 1);
        m.pes(VIDEO, t, Some(t), &access_unit(i == 0, 500 + 37 * i as usize), false, i == 0);
        let mut frames = adts(&[i as u8; 100]);
        frames.extend(adts(&[i as u8 + 100; 120]));
        m.pes(AUDIO, t, None, &frames, true, false);
    }
    m.out
}

fn read_all(d: &mut Demuxer) -> (Vec<MediaPacket>, Vec<Error>) {
    let (mut packets, mut errors) = (Vec::new(), Vec::new());
    for _ in 0..100_000 {
        match d.next_packet() {
            Ok(Some(p)) => packets.push(p),
            Ok(None) => return (packets, errors),
            Err(e) => errors.push(e),
        }
    }
    panic!("no end");
}

#[test]
fn tracks_packets_and_adts_frames() {
    let mut d = Demuxer::from_bytes(stream(false, 10, 90_000)).unwrap();
    let t = d.tracks().to_vec();
    assert_eq!((t[0].id, t[1].id), (0x100, 0x101));
    assert_eq!(t[1].codec, TrackCodec::Audio(AudioCodec::Aac));
    assert_eq!(t[1].config, CodecConfig::AudioSpecificConfig(vec![0x11, 0x90]));
    assert_eq!(t[1].language.as_deref(), Some("fra"));
    assert_eq!(t[0].duration, Some(10 * 3600), "last pts + one frame at the 25 fps the dts steps give");
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty(), "{errors:?}");
    let video: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == 0).collect();
    let audio: Vec<&MediaPacket> = packets.iter().filter(|p| p.track == 1).collect();
    assert_eq!((video.len(), audio.len()), (10, 20));
    assert!(video[0].keyframe && video[1..].iter().all(|p| !p.keyframe));
    assert_eq!(video[3].data, access_unit(false, 500 + 37 * 3));
    // Two frames per PES, headers stripped, the second 1024 samples after the first.
    assert_eq!((audio[2].data.len(), audio[3].data.len()), (100, 120));
    assert_eq!((audio[2].pts, audio[3].pts), (Some(90_000 + 3600), Some(90_000 + 3600 + 1920)));
    assert_eq!(audio[3].duration, Some(1920));
    assert_eq!(audio[2].pos, audio[3].pos);
    // Tables, asked for twice (the second call scans again), list what reading gives.
    let read: Vec<_> = audio.iter().map(|p| p.entry()).collect();
    assert_eq!(d.packet_table(1).unwrap().entries, read);
    assert_eq!(d.packet_table(1).unwrap().entries, read);
    // Seek to the second frame of a PES.
    d.seek_to(1, &audio[7].entry()).unwrap();
    let next = std::iter::from_fn(|| d.next_packet().unwrap()).find(|p| p.track == 1).unwrap();
    assert_eq!(&next, audio[7]);
}

#[test]
fn m2ts_units() {
    let bytes = stream(true, 5, 0);
    assert_eq!(bytes.len() % 192, 0);
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty());
    assert_eq!(packets.len(), 15);
    assert!(packets.iter().all(|p| p.pos % 192 == 0));
    // The file may start mid-unit (a capture cut anywhere).
    let mut cut = vec![0x5a; 100];
    cut.extend(stream(true, 5, 0));
    let (again, errors) = read_all(&mut Demuxer::from_bytes(cut).unwrap());
    assert!(errors.is_empty());
    assert_eq!(again.len(), 15);
    assert!(again.iter().all(|p| (p.pos - 100) % 192 == 0));
}

#[test]
fn resync_after_garbage() {
    let clean = stream(false, 20, 0);
    let (want, _) = read_all(&mut Demuxer::from_bytes(clean.clone()).unwrap());
    // 77 bytes of garbage (with stray sync bytes) after packet 30. (Garbage that starts
    // with 0x47 passes for a packet, as it does for ffmpeg; the damage is then found at
    // the next unit.)
    let at = 30 * 188;
    let mut bytes = clean[..at].to_vec();
    bytes.extend([0x11; 20]);
    bytes.extend([0x47; 3]);
    bytes.extend([0x11; 54]);
    bytes.extend(&clean[at..]);
    let (got, errors) = read_all(&mut Demuxer::from_bytes(bytes).unwrap());
    assert_eq!(errors.len(), 1, "{errors:?}");
    let Error::InvalidBitstream { offset, reason } = &errors[0] else { panic!() };
    assert_eq!(*offset, at as u64);
    assert!(reason.contains("skipped 77 bytes"), "{reason}");
    // Nothing was lost: the garbage lay between packets.
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| g.data == w.data && g.pts == w.pts));
}

#[test]
fn sections_over_several_packets() {
    // A PMT of 60 streams (a 300-byte section) over two packets; the tracks all come.
    let mut m = Mux::default();
    let mut list: Vec<(u8, u16, &[u8])> = vec![(0x1b, VIDEO, &[])];
    list.extend((0..59).map(|k| (0x99, 0x200 + k, &[][..])));
    m.tables(&list);
    m.pes(VIDEO, 0, None, &access_unit(true, 300), false, true);
    let d = Demuxer::from_bytes(m.out).unwrap();
    assert_eq!(d.tracks().len(), 60);
    assert_eq!(d.tracks()[59].codec, TrackCodec::Other("ts-0x99".into()));
}

#[test]
fn damaged_psi_is_skipped() {
    let mut m = Mux::default();
    // A PAT with a bad CRC, a PMT with an absurd program_info_length, then good ones.
    let mut bad = long_section(0, 1, &[0, 1, 0xf0, 0]);
    let n = bad.len();
    bad[n - 1] ^= 0xff;
    m.section(0, &bad);
    m.section(0, &long_section(0, 1, &[0, 1, 0xf0, 0]));
    m.section(PMT, &long_section(2, 1, &[0xe1, 0, 0xff, 0xff, 0x1b]));
    m.tables(&[(0x1b, VIDEO, &[])]);
    m.pes(VIDEO, 0, None, &access_unit(true, 300), false, true);
    let mut d = Demuxer::from_bytes(m.out).unwrap();
    assert_eq!(d.tracks().len(), 1);
    assert_eq!(read_all(&mut d).0.len(), 1);
    // No PMT at all: a clear error.
    let mut m = Mux::default();
    m.section(0, &long_section(0, 1, &[0, 1, 0xf0, 0]));
    let e = Demuxer::from_bytes(m.out).unwrap_err();
    assert!(e.to_string().contains("no PMT of program 1 (PID 4096)"), "{e}");
}

#[test]
fn unwrapping_across_33_bits() {
    let start = (1u64 << 33) - 3 * 3600;
    let mut d = Demuxer::from_bytes(stream(false, 8, start)).unwrap();
    let (packets, _) = read_all(&mut d);
    let pts: Vec<i64> = packets.iter().filter(|p| p.track == 0).map(|p| p.pts.unwrap()).collect();
    let want: Vec<i64> = (0..8).map(|i| start as i64 + i * 3600).collect();
    assert_eq!(pts, want);
    assert_eq!(d.tracks()[0].duration, Some(8 * 3600));
    // The table and a seek past the wrap agree.
    let table = d.packet_table(0).unwrap();
    assert_eq!(table.entries.iter().map(|e| e.pts.unwrap()).collect::<Vec<_>>(), want);
    d.seek_to(0, &table.entries[6]).unwrap();
    let p = std::iter::from_fn(|| d.next_packet().unwrap()).find(|p| p.track == 0).unwrap();
    assert_eq!(p.pts, Some(want[6]));
}

#[test]
fn pes_with_and_without_length() {
    // Video with PES_packet_length set, audio with 0: both gathered whole.
    let mut m = Mux::default();
    m.tables(&[(0x1b, VIDEO, &[]), (0x0f, AUDIO, &[])]);
    m.pes(VIDEO, 0, None, &access_unit(true, 1000), true, true);
    m.pes(AUDIO, 0, None, &[adts(&[1; 400]), adts(&[2; 10])].concat(), false, false);
    m.pes(VIDEO, 3600, None, &access_unit(false, 1000), true, false);
    let (packets, errors) = read_all(&mut Demuxer::from_bytes(m.out).unwrap());
    assert!(errors.is_empty());
    let sizes: Vec<(usize, usize)> = packets.iter().map(|p| (p.track, p.data.len())).collect();
    // A bounded PES goes out as soon as it is whole; an unbounded one at the next start
    // of its PID, or at the end.
    assert_eq!(sizes, vec![(0, 1000), (0, 1000), (1, 400), (1, 10)]);
}

#[test]
fn truncated_last_packet() {
    let mut bytes = stream(false, 6, 0);
    let cut = bytes.len() - 100;
    bytes.truncate(cut);
    let mut d = Demuxer::from_bytes(bytes).unwrap();
    let mut items = Vec::new();
    loop {
        match d.next_packet() {
            Ok(Some(p)) => items.push(Ok(p.track)),
            Ok(None) => break,
            Err(e) => items.push(Err(e)),
        }
    }
    // Every packet (the last PES as far as it goes), then the damage, then the end.
    let Some(Err(Error::InvalidBitstream { offset, reason })) = items.last() else { panic!("{items:?}") };
    assert_eq!(*offset, (cut / 188 * 188) as u64);
    assert!(reason.contains("cut short (88 of 188 bytes)"), "{reason}");
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 6 + 11);
}

#[test]
fn absurd_pes_headers_never_panic() {
    let mut m = Mux::default();
    m.tables(&[(0x1b, VIDEO, &[]), (0x0f, AUDIO, &[])]);
    // Header data length past the packet, a length shorter than the header, no start code.
    m.packet(VIDEO, true, false, &[0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 0xff, 1, 2, 3]);
    m.packet(AUDIO, true, false, &[0, 0, 1, 0xc0, 0, 2, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]);
    m.packet(VIDEO, true, false, &[9, 9, 9, 9]);
    m.packet(VIDEO, false, false, &[1; 184]);
    m.pes(VIDEO, 0, None, &access_unit(true, 300), false, true);
    let (packets, errors) = read_all(&mut Demuxer::from_bytes(m.out).unwrap());
    assert!(errors.is_empty());
    assert_eq!(packets.len(), 1);
    assert_eq!(packets[0].data, access_unit(true, 300));
}

#[test]
fn tiny_aac_frames_are_made_one_at_a_time() {
    use crate::ContainerDemuxer;
    use crate::io::ByteSource;
    // 3000 frames of one byte (8 bytes each) in one unbounded PES.
    let mut m = Mux::default();
    m.tables(&[(0x0f, AUDIO, &[])]);
    let frames: Vec<u8> = (0..3000).flat_map(|i| adts(&[i as u8])).collect();
    m.pes(AUDIO, 0, None, &frames, false, false);
    let src = ByteSource::new(Box::new(std::io::Cursor::new(m.out))).unwrap();
    let mut d = super::TsDemuxer::open(src).unwrap();
    let mut n = 0;
    while let Some(p) = d.next_packet().unwrap() {
        assert_eq!((p.data.len(), p.pts), (1, Some(n * 1920)));
        n += 1;
        // Only the PES's run waits, never 3000 packets.
        assert!(d.streams.out.queue.len() <= 1);
    }
    assert_eq!(n, 3000);
    assert_eq!(d.packet_table(0).unwrap().entries.len(), 3000);
}

#[test]
fn opus_access_units() {
    // Private data registered as Opus, stereo; PES of three 20 ms CELT packets, each after a
    // control header (the third with start trim).
    let mut m = Mux::default();
    m.tables(&[(0x06, AUDIO, &[0x05, 4, b'O', b'p', b'u', b's', 0x7f, 2, 0x80, 2])]);
    let mut pes = Vec::new();
    for (k, len) in [(0u8, 300usize), (1, 20), (2, 255)] {
        pes.extend([0x7f, if k == 2 { 0xf0 } else { 0xe0 }]);
        pes.extend(std::iter::repeat_n(0xff, len / 255));
        pes.push((len % 255) as u8);
        if k == 2 {
            pes.extend([0, 120]);
        }
        pes.push(0xfc);
        pes.extend(std::iter::repeat_n(k, len - 1));
    }
    m.pes(AUDIO, 9000, None, &pes, true, false);
    m.pes(AUDIO, 9000 + 3 * 1800, None, &pes[..310], true, false);
    let mut d = Demuxer::from_bytes(m.out).unwrap();
    let t = d.tracks()[0].clone();
    assert_eq!(t.codec, TrackCodec::Audio(AudioCodec::Opus));
    let CodecConfig::OpusHead(head) = &t.config else { panic!("{:?}", t.config) };
    assert_eq!(&head[..10], b"OpusHead\x01\x02");
    assert_eq!(t.audio.map(|a| (a.sample_rate, a.channels)), Some((48_000, 2)));
    let (packets, errors) = read_all(&mut d);
    assert!(errors.is_empty());
    let got: Vec<(Option<i64>, usize, u8)> = packets.iter().map(|p| (p.pts, p.data.len(), p.data[1])).collect();
    assert_eq!(got, vec![(Some(9000), 300, 0), (Some(10_800), 20, 1), (Some(12_600), 255, 2), (Some(14_400), 300, 0)]);
    assert!(packets.iter().all(|p| p.data[0] == 0xfc && p.duration == Some(1800)));
}
