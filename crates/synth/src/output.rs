//! Turning rendered rows into file bytes: CSV quoting, encodings, BOM.
//!
//! Each chunk of households is encoded on its own (in parallel), since a
//! chunk ends at a row boundary and neither CSV nor GB18030 carries state
//! across rows; the driver then only copies bytes in order.

use crate::SynthError;
use crate::layout::{FileEncoding, SourceLayout};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Writes records as CSV with the layout's delimiter, then encodes them.
pub fn encode_rows<'a>(layout: &SourceLayout, rows: impl Iterator<Item = &'a [String]>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(layout.delimiter)
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for r in rows {
        // Writing into a Vec cannot fail; a failure would only drop the row.
        let _ = w.write_record(r);
    }
    let utf8 = w.into_inner().unwrap_or_default();
    match layout.encoding {
        FileEncoding::Gb18030 => {
            let text = String::from_utf8(utf8).unwrap_or_default();
            gb18030(&text)
        }
        FileEncoding::Utf8 | FileEncoding::Utf8Bom => utf8,
    }
}

/// GB18030 bytes of every character of the Basic Multilingual Plane,
/// computed once with encoding_rs: its encoder favours a small table over
/// speed, and looking characters up here is what makes a million-student
/// city take seconds rather than minutes.
struct Gb18030Table {
    /// Per code point, up to four bytes and their count.
    bytes: Vec<([u8; 4], u8)>,
}

fn gb18030_table() -> &'static Gb18030Table {
    static TABLE: OnceLock<Gb18030Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut bytes = vec![([0u8; 4], 0u8); 0x1_0000];
        let mut buf = [0u8; 4];
        for (cp, slot) in bytes.iter_mut().enumerate() {
            if let Some(c) = char::from_u32(cp as u32) {
                let (enc, _, _) = encoding_rs::GB18030.encode(c.encode_utf8(&mut buf));
                let n = enc.len().min(4);
                slot.0[..n].copy_from_slice(&enc[..n]);
                slot.1 = n as u8;
            }
        }
        Gb18030Table { bytes }
    })
}

/// Encodes text as GB18030.
pub fn gb18030(text: &str) -> Vec<u8> {
    let table = gb18030_table();
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let cp = c as usize;
        if cp < 0x80 {
            out.push(cp as u8);
        } else if let Some((b, n)) = table.bytes.get(cp) {
            out.extend_from_slice(&b[..*n as usize]);
        } else {
            out.extend_from_slice(&encoding_rs::GB18030.encode(c.encode_utf8(&mut buf)).0);
        }
    }
    out
}

/// The first bytes of a file: BOM where the department writes one, and the header.
pub fn header_bytes(layout: &SourceLayout) -> Vec<u8> {
    let mut out = Vec::new();
    if layout.encoding == FileEncoding::Utf8Bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    out.extend(encode_rows(
        layout,
        std::iter::once(layout.headers.as_slice()),
    ));
    out
}

/// A buffered output file that remembers its path for error messages.
pub struct Out {
    path: PathBuf,
    w: BufWriter<File>,
}

impl Out {
    /// Creates the file (and its folder).
    pub fn create(path: PathBuf) -> Result<Out, SynthError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let f = File::create(&path).map_err(|source| SynthError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(Out {
            path,
            w: BufWriter::with_capacity(1 << 18, f),
        })
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), SynthError> {
        self.w.write_all(bytes).map_err(|source| SynthError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// Flushes and closes.
    pub fn finish(mut self) -> Result<PathBuf, SynthError> {
        self.w.flush().map_err(|source| SynthError::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.path)
    }
}

/// Writes `header` and then the bytes of each part into `dest`, deleting the parts.
pub fn concat(dest: &Path, header: &[u8], parts: &[PathBuf]) -> Result<(), SynthError> {
    let mut o = Out::create(dest.to_path_buf())?;
    o.write(header)?;
    for part in parts {
        let mut f = File::open(part).map_err(|source| SynthError::Io {
            path: part.clone(),
            source,
        })?;
        std::io::copy(&mut f, &mut o.w).map_err(|source| SynthError::Io {
            path: dest.to_path_buf(),
            source,
        })?;
        std::fs::remove_file(part).map_err(|source| SynthError::Io {
            path: part.clone(),
            source,
        })?;
    }
    o.finish().map(|_| ())
}

/// Writes a whole small file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let mut o = Out::create(path.to_path_buf())?;
    o.write(bytes)?;
    o.finish().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_encodes_like_encoding_rs() {
        let text = "户号\t姓名 阿依古丽·买买提 劉偉 •・．４４０１ x 𠀋 ABC\r\n";
        assert_eq!(
            gb18030(text),
            encoding_rs::GB18030.encode(text).0.into_owned()
        );
    }
}
