//! A bit writer for building NAL units in unit tests, and hex input for real ones.

/// Writes bits MSB first and escapes the result into NAL form.
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    pub(crate) fn new() -> Self {
        BitWriter { bytes: Vec::new(), acc: 0, n: 0 }
    }

    pub(crate) fn bits(&mut self, v: u32, n: u32) {
        for i in (0..n).rev() {
            self.acc = (self.acc << 1) | ((v >> i) & 1) as u64;
            self.n += 1;
            if self.n == 8 {
                self.bytes.push(self.acc as u8);
                self.acc = 0;
                self.n = 0;
            }
        }
    }

    pub(crate) fn flag(&mut self, b: bool) {
        self.bits(b as u32, 1);
    }

    pub(crate) fn ue(&mut self, v: u32) {
        let x = v as u64 + 1;
        let len = 64 - x.leading_zeros();
        self.bits(0, len - 1);
        for i in (0..len).rev() {
            self.bits(((x >> i) & 1) as u32, 1);
        }
    }

    pub(crate) fn se(&mut self, v: i32) {
        let k = if v > 0 { 2 * v as i64 - 1 } else { -2 * v as i64 };
        self.ue(k as u32);
    }

    /// `rbsp_trailing_bits()`.
    pub(crate) fn trailing(&mut self) {
        self.bits(1, 1);
        while self.n != 0 {
            self.bits(0, 1);
        }
    }

    /// The NAL unit with emulation prevention (the first byte, the header, is kept as is).
    pub(crate) fn finish(mut self) -> Vec<u8> {
        while self.n != 0 {
            self.bits(0, 1);
        }
        crate::rbsp::escape(&self.bytes)
    }
}

/// Bytes from a hex string ("6764001f…").
pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
