//! Turns a text file's bytes into UTF-8, telling UTF-8 from GB18030.
//!
//! Department exports come as UTF-8 with a BOM (Excel's "CSV UTF-8"), UTF-8
//! without one, GB18030/GBK (the default of Chinese Windows), and now and then
//! UTF-16 (Excel's "Unicode text").
//!
//! UTF-8 files are not decoded at all: the parser reads their bytes in place
//! and checks each record as UTF-8 in its parallel pass. Other encodings are
//! decoded block by block before parsing (GB18030 up to each block's last
//! newline, UTF-16 whole at the end). Either way a byte
//! sequence that is invalid in the file's encoding does not fail the file:
//! only the rows that contain one are rejected (`undecodable`); a decoder
//! error becomes U+FFFD and its offset in the decoded text is recorded.

use aidlink_config::Encoding;
use encoding_rs::{DecoderResult, GB18030, UTF_16BE, UTF_16LE};
use rayon::prelude::*;
use std::io::Read;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// How a text file's bytes are to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// UTF-8: parsed in place, each record checked as it is parsed.
    Utf8 {
        /// Whether the file starts with a BOM (skipped).
        bom: bool,
    },
    /// Another encoding: decoded to UTF-8 first.
    Transcode {
        /// The encoding.
        encoding: &'static encoding_rs::Encoding,
        /// Bytes of BOM to skip.
        skip: usize,
        /// Its label for the stats.
        label: &'static str,
    },
}

impl Plan {
    /// The label the stats report.
    pub fn label(self) -> &'static str {
        match self {
            Plan::Utf8 { bom: true } => "utf-8-bom",
            Plan::Utf8 { bom: false } => "utf-8",
            Plan::Transcode { label, .. } => label,
        }
    }

    /// Bytes of BOM at the start of the file, not part of the text.
    pub fn skip(self) -> usize {
        match self {
            Plan::Utf8 { bom: true } => UTF8_BOM.len(),
            Plan::Utf8 { bom: false } => 0,
            Plan::Transcode { skip, .. } => skip,
        }
    }
}

/// Bytes at the start of a file that `auto` judges.
pub const SAMPLE: usize = 1 << 20;

/// Decides how to read `bytes` (the whole file) given the configured `encoding`.
///
/// `Auto` reads a BOM when there is one; otherwise the file is UTF-8 when it
/// is valid UTF-8, or when its invalid sequences are rare next to its valid
/// multi-byte characters (a UTF-8 file with a few damaged bytes); else it is
/// GB18030. GBK text is almost never valid UTF-8 for more than a few
/// characters in a row, so the ratio separates the two reliably. The test
/// runs on the first MiB, and on the whole file only when that MiB is all ASCII.
#[cfg(test)]
pub fn detect(bytes: &[u8], encoding: Encoding) -> Plan {
    detect_head(bytes, encoding).unwrap_or_else(|| judge(tally(bytes, false)))
}

/// Decides how to read a file from a reader at its start, as `detect` does
/// over the whole file, holding no more than [`SAMPLE`] bytes and a line: the
/// rest of the file is read only when its first MiB is all ASCII.
pub fn detect_stream<R: Read>(mut reader: R, encoding: Encoding) -> std::io::Result<Plan> {
    let mut head = Vec::new();
    (&mut reader)
        .take(SAMPLE as u64 + 1)
        .read_to_end(&mut head)?;
    if let Some(plan) = detect_head(&head, encoding) {
        return Ok(plan);
    }
    let mut tally = Tally::default();
    tally.feed(&head);
    drop(head);
    let mut block = Vec::with_capacity(SAMPLE);
    loop {
        block.clear();
        if (&mut reader).take(SAMPLE as u64).read_to_end(&mut block)? == 0 {
            break;
        }
        tally.feed(&block);
    }
    Ok(judge(tally.finish()))
}

/// `detect` from the file's first bytes (`SAMPLE + 1` of them, or the whole
/// file when shorter); `None` when the whole file has to be judged.
fn detect_head(bytes: &[u8], encoding: Encoding) -> Option<Plan> {
    let bom = bytes.starts_with(UTF8_BOM);
    Some(match encoding {
        Encoding::Utf8 => Plan::Utf8 { bom },
        Encoding::Gb18030 => GB18030_PLAN,
        Encoding::Auto if bom => Plan::Utf8 { bom },
        Encoding::Auto if bytes.starts_with(b"\xFF\xFE") => Plan::Transcode {
            encoding: UTF_16LE,
            skip: 2,
            label: "utf-16le",
        },
        Encoding::Auto if bytes.starts_with(b"\xFE\xFF") => Plan::Transcode {
            encoding: UTF_16BE,
            skip: 2,
            label: "utf-16be",
        },
        Encoding::Auto => {
            let (multibyte, invalid) =
                tally(&bytes[..bytes.len().min(SAMPLE)], bytes.len() > SAMPLE);
            if invalid == 0 && multibyte == 0 && bytes.len() > SAMPLE {
                return None;
            }
            judge((multibyte, invalid))
        }
    })
}

const GB18030_PLAN: Plan = Plan::Transcode {
    encoding: GB18030,
    skip: 0,
    label: "gb18030",
};

/// UTF-8 or GB18030 from a count of valid multi-byte characters and invalid sequences.
fn judge((multibyte, invalid): (usize, usize)) -> Plan {
    if multibyte >= 8 * invalid {
        Plan::Utf8 { bom: false }
    } else {
        GB18030_PLAN
    }
}

/// [`tally`] over a file fed in pieces of any size.
///
/// The bytes are counted up to the last newline fed so far: a newline is a
/// whole character in UTF-8 and never part of an invalid sequence, so counts
/// of pieces cut just after one add up to the count of the whole.
#[derive(Default)]
struct Tally {
    multibyte: usize,
    invalid: usize,
    carry: Vec<u8>,
}

impl Tally {
    fn feed(&mut self, bytes: &[u8]) {
        self.carry.extend_from_slice(bytes);
        if let Some(i) = memchr::memrchr(b'\n', &self.carry) {
            self.add(i + 1);
        }
    }

    fn add(&mut self, upto: usize) {
        let (m, i) = tally(&self.carry[..upto], false);
        self.multibyte += m;
        self.invalid += i;
        self.carry.drain(..upto);
    }

    fn finish(mut self) -> (usize, usize) {
        self.add(self.carry.len());
        (self.multibyte, self.invalid)
    }
}

/// Counts valid multi-byte characters and invalid sequences; a sequence cut
/// off by the end of a `truncated` sample is not counted as invalid.
fn tally(bytes: &[u8], truncated: bool) -> (usize, usize) {
    let mut multibyte = 0usize;
    let mut invalid = 0usize;
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        multibyte += chunk.valid().bytes().filter(|b| *b >= 0xC0).count();
        let cut_off = truncated && chunks.peek().is_none() && chunk.invalid().len() < 4;
        if !chunk.invalid().is_empty() && !cut_off {
            invalid += 1;
        }
    }
    (multibyte, invalid)
}

/// A file decoded from another encoding.
#[derive(Debug, Default)]
pub struct Decoded {
    /// The text, after any BOM.
    pub text: String,
    /// Byte offsets in `text` of the U+FFFD that replaced undecodable bytes, ascending.
    pub bad: Vec<usize>,
}

/// Bytes per piece when decoding in parallel.
pub const PIECE_BYTES: usize = 4 << 20;

/// Decodes `bytes` with encoding_rs, in parallel pieces cut at newlines when
/// the encoding allows it, recording where decoding failed.
///
/// In GB18030 the byte `\n` (0x0A) is never part of a multi-byte character,
/// so pieces cut just after one decode exactly as the whole would. UTF-16 has
/// no such byte and is decoded in one piece.
///
/// The pieces are returned apart, so that the caller can free the file's
/// bytes before [`join`] puts them together: the bytes, the pieces and the
/// joined text are then never all held at once.
#[cfg(test)]
pub fn transcode(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> Vec<Decoded> {
    transcode_in_pieces(bytes, encoding, PIECE_BYTES)
}

#[cfg(test)]
fn transcode_in_pieces(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    piece_bytes: usize,
) -> Vec<Decoded> {
    let mut pool = Vec::new();
    let n = transcode_into(bytes, encoding, piece_bytes, &mut pool);
    pool.truncate(n);
    pool
}

/// [`transcode`] into the first pieces of `pool` (grown when too short),
/// whose buffers are reused from one block of a file to the next: fresh
/// buffers for every block were faulted in and zeroed by the kernel each
/// time. Returns how many pieces of `pool` hold the text.
pub fn transcode_into(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    piece_bytes: usize,
    pool: &mut Vec<Decoded>,
) -> usize {
    let cuts = piece_cuts(bytes, encoding, piece_bytes);
    let n = cuts.len() - 1;
    if pool.len() < n {
        pool.resize_with(n, Decoded::default);
    }
    pool[..n]
        .par_iter_mut()
        .zip(cuts.par_windows(2))
        .for_each(|(piece, w)| transcode_piece_into(&bytes[w[0]..w[1]], encoding, piece));
    n
}

/// Where `bytes` is cut into pieces decoded apart: after a newline about
/// every `piece_bytes` in GB18030, nowhere in other encodings. The first
/// cut is 0 and the last `bytes.len()`.
fn piece_cuts(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    piece_bytes: usize,
) -> Vec<usize> {
    if encoding != GB18030 || bytes.len() <= piece_bytes {
        return vec![0, bytes.len()];
    }
    let mut cuts = vec![0];
    let mut at = 0;
    while at + piece_bytes < bytes.len() {
        let probe = at + piece_bytes;
        at = memchr::memchr(b'\n', &bytes[probe..]).map_or(bytes.len(), |i| probe + i + 1);
        cuts.push(at);
    }
    if *cuts.last().unwrap_or(&0) < bytes.len() {
        cuts.push(bytes.len());
    }
    cuts
}

/// Puts decoded pieces together, in order, freeing each once copied.
#[cfg(test)]
pub fn join(mut pieces: Vec<Decoded>) -> Decoded {
    if pieces.len() == 1
        && let Some(only) = pieces.pop()
    {
        return only;
    }
    let mut text = String::with_capacity(pieces.iter().map(|p| p.text.len()).sum());
    let mut bad = Vec::new();
    for piece in pieces {
        bad.extend(piece.bad.iter().map(|o| o + text.len()));
        text.push_str(&piece.text);
    }
    Decoded { text, bad }
}

/// Appends decoded pieces to `text`, in order, with their bad offsets moved
/// to where they land in it.
pub fn append_decoded(text: &mut String, bad: &mut Vec<usize>, pieces: &[Decoded]) {
    text.reserve(pieces.iter().map(|p| p.text.len()).sum());
    for piece in pieces {
        bad.extend(piece.bad.iter().map(|o| o + text.len()));
        text.push_str(&piece.text);
    }
}

/// Decodes one piece with encoding_rs, recording where it failed.
#[cfg(test)]
fn transcode_piece(bytes: &[u8], encoding: &'static encoding_rs::Encoding) -> Decoded {
    let mut piece = Decoded::default();
    transcode_piece_into(bytes, encoding, &mut piece);
    piece
}

/// Decodes one piece into `piece`'s buffers (emptied first), recording
/// where decoding failed.
fn transcode_piece_into(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    piece: &mut Decoded,
) {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let Decoded { text, bad } = piece;
    text.clear();
    bad.clear();
    text.reserve(bytes.len() + bytes.len() / 2 + 16);
    let mut src = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, text, true);
        src = &src[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::OutputFull => text.reserve(src.len() * 2 + 16),
            DecoderResult::Malformed(_, _) => {
                if text.capacity() - text.len() < 3 {
                    text.reserve(src.len() * 2 + 16);
                }
                bad.push(text.len());
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "姓名,身份证号\n欧阳娜娜,110105201203051234\n阿依古丽·买买提,\n";

    fn read(bytes: &[u8], encoding: Encoding) -> (&'static str, String, Vec<usize>) {
        match detect(bytes, encoding) {
            Plan::Utf8 { bom } => {
                let skip = if bom { 3 } else { 0 };
                (
                    detect(bytes, encoding).label(),
                    String::from_utf8_lossy(&bytes[skip..]).into_owned(),
                    Vec::new(),
                )
            }
            plan @ Plan::Transcode { encoding, skip, .. } => {
                let d = join(transcode(&bytes[skip..], encoding));
                (plan.label(), d.text, d.bad)
            }
        }
    }

    #[test]
    fn tells_utf8_with_and_without_bom_from_gb18030() {
        assert_eq!(
            read(SAMPLE.as_bytes(), Encoding::Auto),
            ("utf-8", SAMPLE.to_string(), vec![])
        );
        let mut bom = UTF8_BOM.to_vec();
        bom.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(
            read(&bom, Encoding::Auto),
            ("utf-8-bom", SAMPLE.to_string(), vec![])
        );
        let (gb, _, _) = GB18030.encode(SAMPLE);
        assert_eq!(
            read(&gb, Encoding::Auto),
            ("gb18030", SAMPLE.to_string(), vec![])
        );
    }

    #[test]
    fn a_damaged_utf8_file_stays_utf8() {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes.extend_from_slice(b"\xFF\xFE,1\n");
        bytes.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(detect(&bytes, Encoding::Auto), Plan::Utf8 { bom: false });
    }

    #[test]
    fn a_large_file_is_judged_past_its_ascii_start() {
        let mut bytes = vec![b'a'; (1 << 20) + 10];
        bytes.extend_from_slice(&GB18030.encode(SAMPLE).0);
        assert_eq!(detect(&bytes, Encoding::Auto).label(), "gb18030");
        let mut bytes = vec![b'a'; (1 << 20) - 1];
        bytes.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(
            detect(&bytes, Encoding::Auto).label(),
            "utf-8",
            "a character cut by the sample is not damage"
        );
    }

    #[test]
    fn explicit_gb18030_marks_truncated_sequences() {
        let (gb, _, _) = GB18030.encode("张三");
        let mut bytes = gb.into_owned();
        bytes.push(0x81);
        assert_eq!(
            read(&bytes, Encoding::Gb18030),
            ("gb18030", "张三\u{FFFD}".to_string(), vec!["张三".len()])
        );
    }

    #[test]
    fn parallel_pieces_decode_like_the_whole() {
        let line = "欧阳娜娜,110105201203051234,幸福路1号\n";
        let text = line.repeat(100);
        let mut bytes = GB18030.encode(&text).0.into_owned();
        bytes.insert(1005, 0x81);
        let whole = transcode_piece(&bytes, GB18030);
        let pieces = transcode_in_pieces(&bytes, GB18030, 1000);
        assert!(pieces.len() > 2);
        let parts = join(pieces);
        assert_eq!(parts.bad.len(), 1);
        assert_eq!((parts.text == whole.text, parts.bad), (true, whole.bad));
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\tID\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(
            read(&bytes, Encoding::Auto),
            ("utf-16le", "姓名\tID\n".to_string(), vec![])
        );
    }

    #[test]
    fn streamed_detection_judges_like_the_whole_file() {
        let gb = GB18030.encode(SAMPLE).0.into_owned();
        let mut cases: Vec<Vec<u8>> = vec![Vec::new(), SAMPLE.as_bytes().to_vec(), gb.clone()];
        // A first MiB of ASCII, then (with and without newlines) text that
        // decides: GB18030, UTF-8, damaged UTF-8.
        for tail in [
            gb.clone(),
            SAMPLE.as_bytes().to_vec(),
            b"\xE4\xB8\xAD\xFF\n".repeat(3),
        ] {
            for line in [&b"abc,def\n"[..], b"x"] {
                let mut bytes = line.repeat((1 << 20) / line.len() + 7);
                bytes.extend_from_slice(&tail);
                cases.push(bytes);
            }
        }
        for bytes in &cases {
            for encoding in [Encoding::Auto, Encoding::Utf8, Encoding::Gb18030] {
                assert_eq!(
                    detect_stream(std::io::Cursor::new(bytes), encoding).unwrap(),
                    detect(bytes, encoding),
                    "{} bytes",
                    bytes.len()
                );
            }
        }
    }
}
