//! Transport packets: finding them in the byte stream (188-byte packets, or M2TS's
//! 192-byte units with a 4-byte arrival timestamp in front), getting sync back after
//! damage, and reading each packet's 4-byte header and adaptation field.

use memchr::memchr_iter;

use super::malformed;
use crate::io::ByteSource;
use video_hw_types::error::{Error, Result};

/// The size of a transport packet (without M2TS's prefix).
pub const TS_PACKET: usize = 188;
/// The byte every transport packet starts with.
pub const SYNC: u8 = 0x47;
/// The PID of null (stuffing) packets.
pub const NULL_PID: u16 = 0x1fff;

/// Packets after a candidate sync byte that must agree before it is believed (a lone
/// 0x47 is common inside payloads).
const RESYNC_AGREE: usize = 2;

/// What a packet's 4-byte header and adaptation field say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The packet identifier.
    pub pid: u16,
    /// `payload_unit_start_indicator`: a PES or a section starts in this packet.
    pub unit_start: bool,
    /// `transport_error_indicator`: the transmission path saw an uncorrectable error.
    pub error: bool,
    /// `continuity_counter` (4 bits, counts packets with payload).
    pub cc: u8,
    /// The packet carries payload.
    pub has_payload: bool,
    /// The adaptation field's `discontinuity_indicator`: the continuity counter (or the
    /// time base) may jump here.
    pub discontinuity: bool,
    /// The adaptation field's `random_access_indicator`.
    pub random_access: bool,
    /// Offset of the payload inside the 188 bytes (after the adaptation field).
    pub payload_start: usize,
}

/// Reads the header of one 188-byte packet (sync byte first); `Err` names what is
/// wrong with it (a length that does not fit the packet).
pub fn parse_header(p: &[u8]) -> std::result::Result<Header, &'static str> {
    if p.len() < TS_PACKET {
        return Err("short packet");
    }
    let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
    let afc = (p[3] >> 4) & 3;
    let mut h = Header {
        pid,
        unit_start: p[1] & 0x40 != 0,
        error: p[1] & 0x80 != 0,
        cc: p[3] & 0x0f,
        has_payload: afc & 1 != 0,
        discontinuity: false,
        random_access: false,
        payload_start: 4,
    };
    if afc == 0 {
        // Reserved: a decoder discards the packet.
        return Err("adaptation_field_control 00 (reserved)");
    }
    if afc & 2 != 0 {
        let len = usize::from(p[4]);
        // With payload the field leaves at least one byte of it; without, it fills the packet.
        let max = if h.has_payload { 182 } else { 183 };
        if len > max {
            return Err("adaptation field longer than the packet");
        }
        if len > 0 {
            h.discontinuity = p[5] & 0x80 != 0;
            h.random_access = p[5] & 0x40 != 0;
        }
        h.payload_start = 5 + len;
    }
    Ok(h)
}

/// One step of [`Framer::next`].
pub enum Step<'a> {
    /// A packet: the file offset of its unit (the sync byte, or M2TS's prefix) and its
    /// 188 bytes.
    Packet(u64, &'a [u8]),
    /// Sync was lost: the error says where and how much was skipped; reading goes on
    /// with the packet after the damage.
    Damage(Error),
    /// The end of the input (see [`Framer::take_tail_damage`] for a cut last packet).
    End,
}

/// Cuts a byte stream into transport packets.
pub struct Framer {
    /// The input.
    pub src: ByteSource,
    /// 188, or 192 for M2TS.
    pub unit: usize,
    /// Offset of the sync byte inside a unit (0, or 4 for M2TS).
    sync_at: usize,
    /// A cut last packet, reported after everything before it.
    tail_damage: Option<Error>,
}

impl Framer {
    /// A framer for `unit`-byte units (188 or 192).
    pub fn new(src: ByteSource, unit: usize) -> Self {
        Framer { src, unit, sync_at: unit - TS_PACKET, tail_damage: None }
    }

    /// Continues at `pos` (a unit's first byte).
    pub fn seek(&mut self, pos: u64) {
        self.src.seek(pos);
        self.tail_damage = None;
    }

    /// The cut last packet found at the end, once.
    pub fn take_tail_damage(&mut self) -> Option<Error> {
        self.tail_damage.take()
    }

    /// The next packet, or the damage before it, or the end.
    pub fn next(&mut self) -> Result<Step<'_>> {
        let pos = self.src.position();
        let (unit, sync_at) = (self.unit, self.sync_at);
        let head = self.src.peek(unit)?;
        let (have, synced) = (head.len(), head.get(sync_at) == Some(&SYNC));
        if have == unit && synced {
            let p = self.src.take(unit)?;
            return Ok(Step::Packet(pos, &p[sync_at..]));
        }
        if have == 0 {
            return Ok(Step::End);
        }
        let len = self.src.len();
        match self.resync(pos)? {
            Some(next) => {
                self.src.seek(next);
                Ok(Step::Damage(malformed(
                    pos,
                    format!(
                        "lost sync (no 0x47 at byte {}); skipped {} bytes to the next packet at {next}",
                        pos + sync_at as u64,
                        next - pos
                    ),
                )))
            }
            None if have < unit => {
                // Too short for a packet and nothing after it: a cut last packet, told
                // after the packets that end before it.
                self.tail_damage =
                    Some(malformed(pos, format!("the last packet is cut short ({have} of {unit} bytes)")));
                self.src.seek(len);
                Ok(Step::End)
            }
            None => {
                self.src.seek(len);
                Ok(Step::Damage(malformed(
                    pos,
                    format!("lost sync at byte {pos}; no packet in the last {} bytes", len - pos),
                )))
            }
        }
    }

    /// The offset of the first unit after `from` whose sync byte is followed by
    /// [`RESYNC_AGREE`] more at the packet stride (as far as the input goes), and which
    /// is whole; `None` when there is none.
    fn resync(&mut self, from: u64) -> Result<Option<u64>> {
        let unit = self.unit as u64;
        let len = self.src.len();
        let mut at = from + 1;
        while at + unit <= len {
            self.src.seek(at);
            let window = self.src.peek(usize::MAX)?;
            let span = (RESYNC_AGREE as u64 + 1) * unit;
            let mut next_at = None;
            for i in memchr_iter(SYNC, window) {
                let Some(start) = i.checked_sub(self.sync_at) else { continue };
                let abs = at + start as u64;
                if abs + unit > len {
                    return Ok(None);
                }
                // Every later sync byte that lies inside the input must be there.
                let mut ok = true;
                let mut unknown = false;
                for k in 1..=RESYNC_AGREE {
                    let j = i + k * self.unit;
                    if abs + self.sync_at as u64 + (k as u64) * unit >= len {
                        break;
                    }
                    match window.get(j) {
                        Some(&b) => ok &= b == SYNC,
                        None => unknown = true,
                    }
                }
                if unknown {
                    // Move the window to this candidate so its followers are in it.
                    next_at = Some(abs);
                    break;
                }
                if ok {
                    return Ok(Some(abs));
                }
            }
            at = match next_at {
                Some(a) if a > at => a,
                // A candidate at the window's start whose followers are still outside it
                // (cannot happen: the window is far larger than three packets unless it
                // reaches the end, where followers past the end are not asked for).
                Some(a) => return Ok(Some(a)),
                None => at + (window.len() as u64).saturating_sub(span).max(1),
            };
        }
        Ok(None)
    }
}
