//! Turns a text file's bytes into UTF-8, telling UTF-8 from GB18030.
//!
//! Department exports come as UTF-8 with a BOM (Excel's "CSV UTF-8"), UTF-8
//! without one, GB18030/GBK (the default of Chinese Windows), and now and then
//! UTF-16 (Excel's "Unicode text"). Decoding happens once, over the whole file,
//! before parsing; the parser then works on valid UTF-8 only.
//!
//! A byte sequence that is invalid in the chosen encoding does not fail the
//! file: it becomes U+FFFD and its offset in the decoded text is recorded, so
//! the parser can reject exactly the rows that contain one (`undecodable`).

use aidlink_config::Encoding;
use encoding_rs::{DecoderResult, GB18030, UTF_16BE, UTF_16LE};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A decoded text file.
#[derive(Debug)]
pub struct Decoded {
    /// The text; starts after any BOM.
    pub text: String,
    /// Byte offsets in `text` of the U+FFFD that replaced undecodable bytes, ascending.
    pub bad: Vec<usize>,
    /// What was detected or applied: `utf-8`, `utf-8-bom`, `gb18030`, `utf-16le`, `utf-16be`.
    pub label: &'static str,
}

/// Decodes `bytes` (the whole file) as `encoding`.
///
/// `Auto` reads a BOM when there is one; otherwise the file is UTF-8 when it
/// is valid UTF-8, or when its invalid sequences are rare next to its valid
/// multi-byte characters (a UTF-8 file with a few damaged bytes); else it is
/// GB18030. GBK text is almost never valid UTF-8 for more than a few
/// characters in a row, so the ratio separates the two reliably.
pub fn decode(bytes: Vec<u8>, encoding: Encoding) -> Decoded {
    let has_utf8_bom = bytes.starts_with(UTF8_BOM);
    match encoding {
        Encoding::Utf8 => decode_utf8(bytes, has_utf8_bom),
        Encoding::Gb18030 => decode_with(&bytes, GB18030, "gb18030"),
        Encoding::Auto => {
            if has_utf8_bom {
                decode_utf8(bytes, true)
            } else if bytes.starts_with(b"\xFF\xFE") {
                decode_with(&bytes[2..], UTF_16LE, "utf-16le")
            } else if bytes.starts_with(b"\xFE\xFF") {
                decode_with(&bytes[2..], UTF_16BE, "utf-16be")
            } else if looks_like_utf8(&bytes) {
                decode_utf8(bytes, false)
            } else {
                decode_with(&bytes, GB18030, "gb18030")
            }
        }
    }
}

/// Whether bytes that are not valid UTF-8 are still best read as UTF-8.
fn looks_like_utf8(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_ok() {
        return true;
    }
    let mut multibyte = 0usize;
    let mut invalid = 0usize;
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().bytes().filter(|b| *b >= 0xC0).count();
        if !chunk.invalid().is_empty() {
            invalid += 1;
        }
    }
    multibyte >= 8 * invalid
}

/// UTF-8, zero-copy when valid; damaged sequences become U+FFFD.
fn decode_utf8(bytes: Vec<u8>, bom: bool) -> Decoded {
    let label = if bom { "utf-8-bom" } else { "utf-8" };
    let start = if bom { UTF8_BOM.len() } else { 0 };
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if start > 0 {
                text.drain(..start);
            }
            Decoded {
                text,
                bad: Vec::new(),
                label,
            }
        }
        Err(e) => {
            let bytes = e.into_bytes();
            let mut text = String::with_capacity(bytes.len());
            let mut bad = Vec::new();
            for chunk in bytes[start..].utf8_chunks() {
                text.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    bad.push(text.len());
                    text.push(char::REPLACEMENT_CHARACTER);
                }
            }
            Decoded { text, bad, label }
        }
    }
}

/// Any other encoding, through encoding_rs, recording where it failed.
fn decode_with(
    bytes: &[u8],
    encoding: &'static encoding_rs::Encoding,
    label: &'static str,
) -> Decoded {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(bytes.len() + bytes.len() / 2 + 16);
    let mut bad = Vec::new();
    let mut src = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(src, &mut text, true);
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
    Decoded { text, bad, label }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "姓名,身份证号\n欧阳娜娜,110105201203051234\n阿依古丽·买买提,\n";

    #[test]
    fn tells_utf8_with_and_without_bom_from_gb18030() {
        let plain = decode(SAMPLE.as_bytes().to_vec(), Encoding::Auto);
        assert_eq!((plain.label, plain.text.as_str()), ("utf-8", SAMPLE));
        let mut bom = UTF8_BOM.to_vec();
        bom.extend_from_slice(SAMPLE.as_bytes());
        let bom = decode(bom, Encoding::Auto);
        assert_eq!((bom.label, bom.text.as_str()), ("utf-8-bom", SAMPLE));
        let (gb, _, _) = GB18030.encode(SAMPLE);
        let gb = decode(gb.into_owned(), Encoding::Auto);
        assert_eq!(
            (gb.label, gb.text.as_str(), gb.bad.len()),
            ("gb18030", SAMPLE, 0)
        );
    }

    #[test]
    fn a_damaged_utf8_file_stays_utf8_and_marks_the_bad_bytes() {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        bytes.extend_from_slice(b"\xFF\xFE,1\n");
        bytes.extend_from_slice(SAMPLE.as_bytes());
        let d = decode(bytes, Encoding::Auto);
        assert_eq!(d.label, "utf-8");
        assert_eq!(d.bad, vec![SAMPLE.len(), SAMPLE.len() + 3]);
        assert_eq!(&d.text[SAMPLE.len()..SAMPLE.len() + 3], "\u{FFFD}");
    }

    #[test]
    fn explicit_gb18030_marks_truncated_sequences() {
        let (gb, _, _) = GB18030.encode("张三");
        let mut bytes = gb.into_owned();
        bytes.push(0x81);
        let d = decode(bytes, Encoding::Gb18030);
        assert_eq!(d.text, "张三\u{FFFD}");
        assert_eq!(d.bad, vec!["张三".len()]);
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "姓名\tID\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode(bytes, Encoding::Auto);
        assert_eq!((d.label, d.text.as_str()), ("utf-16le", "姓名\tID\n"));
    }
}
