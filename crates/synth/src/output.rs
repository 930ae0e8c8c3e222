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
            encoding_rs::GB18030.encode(&text).0.into_owned()
        }
        FileEncoding::Utf8 | FileEncoding::Utf8Bom => utf8,
    }
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

/// Writes a whole small file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let mut o = Out::create(path.to_path_buf())?;
    o.write(bytes)?;
    o.finish().map(|_| ())
}
