//! Applies unified diffs (`git diff` / `git format-patch` output) exactly: every hunk's
//! context and removed lines must match the file (at the stated line or anywhere later),
//! else the build stops and names the hunk. No fuzz, so a patch that no longer fits the
//! bundled source (a new openh264-sys2) fails loudly instead of half-applying. Line ends
//! are compared without carriage returns (openh264-sys2 ships the sources with CRLF line
//! ends, upstream's git has LF) and the result has LF line ends.

/// One file's changes.
pub struct FilePatch {
    /// Path of the file relative to the source root (the `a/` prefix removed).
    pub path: String,
    hunks: Vec<Hunk>,
}

struct Hunk {
    /// 1-based first line of the old text.
    old_start: usize,
    old: Vec<String>,
    new: Vec<String>,
}

/// Parses a patch that may touch several files (header and commit text are skipped).
pub fn parse(text: &str) -> Result<Vec<FilePatch>, String> {
    let mut files: Vec<FilePatch> = Vec::new();
    let text = text.replace("\r\n", "\n");
    let mut lines = text.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("--- ") {
            let next = lines.next().unwrap_or_default();
            let new_path =
                next.strip_prefix("+++ ").ok_or_else(|| format!("'+++' expected after '{}'", rest.trim()))?;
            let path = new_path.trim_end().trim_start_matches("b/").to_string();
            files.push(FilePatch { path, hunks: Vec::new() });
        } else if let Some(header) = line.strip_prefix("@@ -") {
            let file = files.last_mut().ok_or("hunk before any file header")?;
            let (old_start, old_len, new_len) = hunk_header(header)?;
            let mut hunk = Hunk { old_start, old: Vec::new(), new: Vec::new() };
            while hunk.old.len() < old_len || hunk.new.len() < new_len {
                let l = lines.next().ok_or_else(|| format!("{}: hunk at line {old_start} is cut short", file.path))?;
                let body = l.get(1..).unwrap_or("\n").to_string();
                match l.as_bytes().first() {
                    Some(b' ') | Some(b'\n') => {
                        hunk.old.push(body.clone());
                        hunk.new.push(body);
                    }
                    Some(b'-') => hunk.old.push(body),
                    Some(b'+') => hunk.new.push(body),
                    Some(b'\\') => {}
                    _ => return Err(format!("{}: bad line in hunk at {old_start}: {l:?}", file.path)),
                }
            }
            // "\ No newline at end of file" after the last line.
            if lines.peek().is_some_and(|l| l.starts_with('\\')) {
                lines.next();
            }
            file.hunks.push(hunk);
        }
    }
    Ok(files)
}

/// "-l,s +l,s @@ ..." → (old start, old length, new length).
fn hunk_header(header: &str) -> Result<(usize, usize, usize), String> {
    let bad = || format!("bad hunk header: @@ -{}", header.trim_end());
    let mut parts = header.split_whitespace();
    let range = |s: Option<&str>| -> Option<(usize, usize)> {
        let s = s?;
        let mut it = s.split(',');
        let start = it.next()?.parse().ok()?;
        let len = it.next().map_or(Some(1), |l| l.parse().ok())?;
        Some((start, len))
    };
    let (old_start, old_len) = range(parts.next()).ok_or_else(bad)?;
    let (_, new_len) = range(parts.next().and_then(|s| s.strip_prefix('+'))).ok_or_else(bad)?;
    Ok((old_start, old_len, new_len))
}

impl FilePatch {
    /// `original` with every hunk applied, in order.
    pub fn apply(&self, original: &str) -> Result<String, String> {
        let original = original.replace("\r\n", "\n");
        let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_string).collect();
        // Hunks shift later lines by the difference of their lengths.
        let mut shift: isize = 0;
        let mut floor = 0usize;
        for h in &self.hunks {
            let expected = (h.old_start.saturating_sub(1) as isize + shift).max(0) as usize;
            let fits = |at: usize| at + h.old.len() <= lines.len() && lines[at..at + h.old.len()] == h.old[..];
            let at = if fits(expected) {
                expected
            } else {
                (floor..=lines.len().saturating_sub(h.old.len()))
                    .find(|&at| fits(at))
                    .ok_or_else(|| format!("{}: hunk at line {} does not match the source", self.path, h.old_start))?
            };
            lines.splice(at..at + h.old.len(), h.new.iter().cloned());
            shift += h.new.len() as isize - h.old.len() as isize;
            floor = at + h.new.len();
        }
        Ok(lines.concat())
    }
}
