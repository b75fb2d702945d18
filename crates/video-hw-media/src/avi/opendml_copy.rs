//! Copies of an AVI located by an OpenDML index made from its `idx1`, for tests: ffmpeg
//! writes no OpenDML index into small files, so the fixtures get one here. Built for this
//! crate's tests and, through the `test-support` feature, for the library's
//! (`tests/media_avi.rs`); never part of a release build.

/// A RIFF chunk: `id`, its size, the payload and the pad byte an odd payload needs.
pub fn chunk(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend((payload.len() as u32).to_le_bytes());
    c.extend(payload);
    if payload.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// The little-endian `u32` at `at`.
pub fn le32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// The top-level chunks under `RIFF AVI ` (id, offset of the header, payload size).
pub fn top_level(f: &[u8]) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= f.len() {
        let size = le32_at(f, at + 4) as usize;
        out.push((f[at..at + 4].try_into().unwrap(), at, size));
        at += 8 + size + (size & 1);
    }
    out
}

/// An OpenDML standard index (`ix##` chunk) of chunk id `id`: entries (offset from
/// `base`, size, key).
pub fn standard_index(id: &[u8; 4], base: u64, entries: &[(u32, u32, bool)]) -> Vec<u8> {
    let mut b = vec![2, 0, 0, 1];
    b.extend((entries.len() as u32).to_le_bytes());
    b.extend(id);
    b.extend(base.to_le_bytes());
    b.extend([0; 4]);
    for &(off, size, key) in entries {
        b.extend(off.to_le_bytes());
        b.extend((size | if key { 0 } else { 1 << 31 }).to_le_bytes());
    }
    chunk(&[b"ix", &id[..2]].concat(), &b)
}

/// An OpenDML super index (`indx` payload of `len` bytes, zero-padded) of chunk id `id`
/// listing standard indexes at (file offset, chunk bytes, duration).
pub fn super_index(id: &[u8; 4], entries: &[(u64, u32, u32)], len: usize) -> Vec<u8> {
    let mut b = vec![4, 0, 0, 0];
    b.extend((entries.len() as u32).to_le_bytes());
    b.extend(id);
    b.extend([0; 12]);
    for &(at, size, duration) in entries {
        b.extend(at.to_le_bytes());
        b.extend(size.to_le_bytes());
        b.extend(duration.to_le_bytes());
    }
    assert!(b.len() <= len);
    b.resize(len, 0);
    b
}

/// An ffmpeg AVI (which reserves a `JUNK` chunk in each `strl` for an OpenDML super
/// index) given an OpenDML index made from its `idx1`: one standard index per stream
/// appended to the RIFF list (offsets from the `movi` FourCC), each `strl`'s `JUNK` made
/// the stream's `indx` pointing at it. Unless `keep_idx1`, the `idx1` is renamed `JUNK`,
/// so that the OpenDML index is all that locates the packets.
pub fn with_opendml_index(avi: &[u8], keep_idx1: bool) -> Vec<u8> {
    let top = top_level(avi);
    let movi = top.iter().find(|c| &c.0 == b"LIST" && &avi[c.1 + 8..c.1 + 12] == b"movi").unwrap().1 + 8;
    let idx1 = top.iter().find(|c| &c.0 == b"idx1").unwrap();
    // Each stream's chunk id and (payload offset from the movi FourCC, size, key).
    type Entries = ([u8; 4], Vec<(u32, u32, bool)>);
    let mut streams: Vec<Entries> = Vec::new();
    for e in avi[idx1.1 + 8..idx1.1 + 8 + idx1.2].chunks_exact(16) {
        let id: [u8; 4] = e[..4].try_into().unwrap();
        let Some(s) = super::chunks::stream_of(id) else { continue };
        let s = s as usize;
        if streams.len() <= s {
            streams.resize(s + 1, (id, Vec::new()));
        }
        // A stream's id is its own first entry's (where a later stream's entry came first,
        // the slots the resize made hold that stream's id).
        if streams[s].1.is_empty() {
            streams[s].0 = id;
        }
        // idx1 offsets point at the chunk header; a standard index's at its payload.
        streams[s].1.push((le32_at(e, 8) + 8, le32_at(e, 12), le32_at(e, 4) & 0x10 != 0));
    }
    let mut f = avi.to_vec();
    if !keep_idx1 {
        f[idx1.1..idx1.1 + 4].copy_from_slice(b"JUNK");
    }
    let mut ix_at = Vec::new();
    for (id, entries) in &streams {
        let ix = standard_index(id, movi as u64, entries);
        ix_at.push((f.len() as u64, ix.len() as u32, entries.len() as u32));
        f.extend(ix);
    }
    let riff = (f.len() - 8) as u32;
    f[4..8].copy_from_slice(&riff.to_le_bytes());
    // Each strl's JUNK, in order: the n-th is stream n's.
    let mut s = 0;
    let mut at = 0;
    while let Some(p) = f[at..].windows(8).position(|w| w == b"strlstrh") {
        let strl = at + p;
        let end = strl + le32_at(&f, strl - 4) as usize;
        let junk = strl + f[strl..end].windows(4).position(|w| w == b"JUNK").unwrap();
        let len = le32_at(&f, junk + 4) as usize;
        f[junk..junk + 4].copy_from_slice(b"indx");
        let indx = super_index(&streams[s].0, &[ix_at[s]], len);
        f[junk + 8..junk + 8 + len].copy_from_slice(&indx);
        s += 1;
        at = end;
    }
    assert_eq!(s, streams.len());
    f
}
