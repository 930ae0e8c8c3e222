//! The CSV/TSV record grammar: where records start and what their fields are.
//!
//! The grammar is the usual one, read leniently:
//! * records end at `\n` outside quotes; a `\r` before it is dropped (CRLF);
//! * a field that starts with `"` is quoted: it runs to the next `"` not
//!   doubled, may contain delimiters and newlines, and `""` inside it is one
//!   `"`; text after the closing quote up to the delimiter is kept as part
//!   of the field (`"a"b` reads `ab`), as spreadsheet programs do;
//! * a `"` anywhere else is an ordinary character (`5号楼"A"座`).
//!
//! Two passes use it. [`split_records`] walks the whole text sequentially but
//! stops only at quote characters (found with memchr), to cut it into chunks
//! that each start at a record boundary; [`Record::parse`] then reads the
//! records of one chunk, and chunks are parsed in parallel. Both passes apply
//! the same rule for when a quote opens a field (it is the first byte of the
//! file, or follows a delimiter or a newline), which is what keeps their
//! record boundaries identical.

use crate::sink::Cells;
use memchr::{memchr, memchr2};
use std::ops::Range;

/// Cuts `b[start..]` into ranges of about `target` bytes, each starting at a
/// record boundary and ending just after a record's newline (or at the end).
pub fn split_records(b: &[u8], start: usize, delim: u8, target: usize) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut walker = QuoteWalker {
        b,
        delim,
        pos: start,
        quoted: false,
    };
    let mut chunk_start = start;
    while chunk_start < b.len() {
        let mut probe = chunk_start.saturating_add(target.max(1));
        let boundary = loop {
            if probe >= b.len() {
                break b.len();
            }
            walker.advance(probe);
            if walker.quoted {
                // The probe fell inside a quoted field; its newlines are not
                // boundaries, so look again after it.
                walker.finish_quote();
                probe = walker.pos;
                continue;
            }
            let from = walker.pos.max(probe);
            let Some(i) = memchr(b'\n', &b[from..]) else {
                break b.len();
            };
            let newline = from + i;
            walker.advance(newline);
            if walker.quoted {
                walker.finish_quote();
                probe = walker.pos;
                continue;
            }
            walker.pos = newline + 1;
            break newline + 1;
        };
        chunks.push(chunk_start..boundary);
        chunk_start = boundary;
    }
    chunks
}

/// [`split_records`] over text that may stop inside a record (a block of a
/// file still being read): the chunks cover only the complete records, and
/// the second value is where they end (the start of the incomplete tail).
/// At the end of the file (`at_end`) every byte belongs to a record.
pub fn split_complete(
    b: &[u8],
    start: usize,
    delim: u8,
    target: usize,
    at_end: bool,
) -> (Vec<Range<usize>>, usize) {
    let mut chunks = split_records(b, start, delim, target);
    if at_end {
        return (chunks, b.len().max(start));
    }
    // Every chunk but the last ends at a newline outside quotes, found from
    // the bytes before it; the last one ends at the end of the text, which
    // may be inside a record, so its last boundary is looked for line by line.
    let Some(last) = chunks.pop() else {
        return (chunks, start);
    };
    let end = last_boundary(b, last.start, delim);
    if end > last.start {
        chunks.push(last.start..end);
    }
    (chunks, end)
}

/// The position just after the last newline outside quotes in `b[from..]`
/// (`from` itself when there is none); `from` is a record boundary.
fn last_boundary(b: &[u8], from: usize, delim: u8) -> usize {
    let mut walker = QuoteWalker {
        b,
        delim,
        pos: from,
        quoted: false,
    };
    let mut last = from;
    let mut search = from;
    while let Some(i) = memchr(b'\n', &b[search..]) {
        let newline = search + i;
        walker.advance(newline);
        if walker.quoted {
            // A newline inside a quoted field: look again after the field.
            walker.finish_quote();
            search = walker.pos;
            continue;
        }
        last = newline + 1;
        search = newline + 1;
    }
    last
}

/// Tracks whether a position is inside a quoted field, jumping from quote to quote.
struct QuoteWalker<'a> {
    b: &'a [u8],
    delim: u8,
    /// Every quote before `pos` has been accounted for.
    pos: usize,
    /// Whether `pos` is inside a quoted field.
    quoted: bool,
}

impl QuoteWalker<'_> {
    /// Moves past the closing quote of the quoted field `pos` is in (to the
    /// end of the text when it is never closed).
    fn finish_quote(&mut self) {
        while self.quoted {
            match memchr(b'"', &self.b[self.pos..]) {
                Some(i) => {
                    let q = self.pos + i;
                    if self.b.get(q + 1) == Some(&b'"') {
                        self.pos = q + 2;
                    } else {
                        self.quoted = false;
                        self.pos = q + 1;
                    }
                }
                None => {
                    self.pos = self.b.len();
                    return;
                }
            }
        }
    }

    /// Accounts for every quote before `to`.
    fn advance(&mut self, to: usize) {
        let b = self.b;
        while self.pos < to {
            if self.quoted {
                match memchr(b'"', &b[self.pos..to]) {
                    Some(i) => {
                        let q = self.pos + i;
                        if b.get(q + 1) == Some(&b'"') {
                            self.pos = q + 2;
                        } else {
                            self.quoted = false;
                            self.pos = q + 1;
                        }
                    }
                    None => self.pos = to,
                }
            } else {
                match memchr(b'"', &b[self.pos..to]) {
                    Some(i) => {
                        let q = self.pos + i;
                        self.quoted = q == 0 || b[q - 1] == self.delim || b[q - 1] == b'\n';
                        self.pos = q + 1;
                    }
                    None => self.pos = to,
                }
            }
        }
    }
}

/// Where a field's text is: in the file text, or in the record's scratch
/// buffer when it had to be unescaped.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: usize,
    end: usize,
    owned: bool,
}

/// How a record ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// At a newline, or at the end of the text after a complete last field.
    Complete,
    /// Inside a quoted field that the text never closes.
    UnterminatedQuote,
}

/// One parsed record; reused from record to record to avoid allocation.
///
/// The parser works on bytes: every byte it looks for is ASCII, so it never
/// splits a UTF-8 character. Each record's text is then checked as UTF-8
/// once (in the parallel pass, not over the whole file up front); a record
/// that is not valid UTF-8 reports where, and its cells read as empty.
pub struct Record<'t> {
    bytes: &'t [u8],
    /// The same text when it is already known to be valid UTF-8 (decoded).
    text: Option<&'t str>,
    scratch: Vec<u8>,
    spans: Vec<Span>,
    /// The record's text, when valid UTF-8.
    line: &'t str,
    /// Byte offset (in the file text) of the first invalid UTF-8 byte, if any.
    pub invalid_at: Option<usize>,
    /// Byte range of the record's text without its line ending.
    pub content: Range<usize>,
    /// How it ended.
    pub ending: Ending,
}

impl<'t> Record<'t> {
    /// A reusable record over text already known to be valid UTF-8.
    pub fn new(text: &'t str) -> Self {
        let mut r = Record::over_bytes(text.as_bytes());
        r.text = Some(text);
        r
    }

    /// A reusable record over bytes that should be UTF-8.
    pub fn over_bytes(bytes: &'t [u8]) -> Self {
        Record {
            bytes,
            text: None,
            scratch: Vec::new(),
            spans: Vec::with_capacity(32),
            line: "",
            invalid_at: None,
            content: 0..0,
            ending: Ending::Complete,
        }
    }

    /// The record's raw text, without its line ending (invalid bytes as U+FFFD).
    pub fn raw(&self) -> String {
        match self.invalid_at {
            None => self.line.to_string(),
            Some(_) => String::from_utf8_lossy(&self.bytes[self.content.clone()]).into_owned(),
        }
    }

    /// The record's cells, invalid bytes as U+FFFD (for a header row).
    pub fn cells_lossy(&self) -> Vec<String> {
        self.spans
            .iter()
            .map(|s| {
                let b = if s.owned {
                    &self.scratch[s.start..s.end]
                } else {
                    &self.bytes[s.start..s.end]
                };
                String::from_utf8_lossy(b).into_owned()
            })
            .collect()
    }

    /// Whether the record is a blank line: one field, only whitespace.
    pub fn is_blank(&self) -> bool {
        self.spans.len() == 1
            && !self.spans[0].owned
            && self.ending == Ending::Complete
            && self.bytes[self.content.clone()]
                .iter()
                .all(u8::is_ascii_whitespace)
    }

    /// The index of the field whose text contains byte `offset` of the file text.
    pub fn field_at(&self, offset: usize) -> Option<usize> {
        self.spans
            .iter()
            .position(|s| !s.owned && s.start <= offset && offset < s.end)
    }

    /// Parses the record starting at `pos` (`pos < end`); returns where the next one starts.
    pub fn parse(&mut self, pos: usize, end: usize, delim: u8) -> usize {
        let next = self.parse_fields(pos, end, delim);
        let content = &self.bytes[self.content.clone()];
        let checked = match self.text {
            Some(t) => Ok(t.get(self.content.clone()).unwrap_or_default()),
            // The fast validator only says whether; std says where, on the rare bad record.
            None => simdutf8::basic::from_utf8(content).or_else(|_| std::str::from_utf8(content)),
        };
        match checked {
            Ok(line) => {
                self.line = line;
                self.invalid_at = None;
            }
            Err(e) => {
                self.line = "";
                self.invalid_at = Some(self.content.start + e.valid_up_to());
            }
        }
        next
    }

    fn parse_fields(&mut self, pos: usize, end: usize, delim: u8) -> usize {
        let b = self.bytes;
        self.scratch.clear();
        self.spans.clear();
        self.ending = Ending::Complete;
        let mut p = pos;
        loop {
            if p < end && b[p] == b'"' {
                match self.quoted_field(p + 1, end, delim) {
                    Some(next) => p = next,
                    None => {
                        self.ending = Ending::UnterminatedQuote;
                        self.content = pos..end;
                        return end;
                    }
                }
            } else {
                let e = memchr2(delim, b'\n', &b[p..end]).map_or(end, |i| p + i);
                let field_end = if e > p && b[e - 1] == b'\r' && (e == end || b[e] == b'\n') {
                    e - 1
                } else {
                    e
                };
                self.spans.push(Span {
                    start: p,
                    end: field_end,
                    owned: false,
                });
                p = e;
            }
            // `p` is now at a delimiter, a newline, or the end.
            if p >= end {
                self.content = pos..trim_cr(b, pos, end);
                return end;
            }
            if b[p] == b'\n' {
                self.content = pos..trim_cr(b, pos, p);
                return p + 1;
            }
            p += 1;
        }
    }

    /// Reads a quoted field whose text starts at `p`; returns the position
    /// after it (at a delimiter, newline or the end), or `None` when it is
    /// never closed.
    fn quoted_field(&mut self, start: usize, end: usize, delim: u8) -> Option<usize> {
        let b = self.bytes;
        let mut p = start;
        let mut segment = start;
        let mut owned_from: Option<usize> = None;
        let close = loop {
            let q = p + memchr(b'"', &b[p..end])?;
            if q + 1 < end && b[q + 1] == b'"' {
                owned_from.get_or_insert(self.scratch.len());
                self.scratch.extend_from_slice(&b[segment..=q]);
                segment = q + 2;
                p = q + 2;
                continue;
            }
            break q;
        };
        let after = close + 1;
        let tail_end = memchr2(delim, b'\n', &b[after..end]).map_or(end, |i| after + i);
        let tail_stop = if tail_end > after
            && b[tail_end - 1] == b'\r'
            && (tail_end == end || b[tail_end] == b'\n')
        {
            tail_end - 1
        } else {
            tail_end
        };
        if tail_stop > after && owned_from.is_none() {
            owned_from = Some(self.scratch.len());
        }
        let span = match owned_from {
            None => Span {
                start,
                end: close,
                owned: false,
            },
            Some(from) => {
                self.scratch.extend_from_slice(&b[segment..close]);
                self.scratch.extend_from_slice(&b[after..tail_stop]);
                Span {
                    start: from,
                    end: self.scratch.len(),
                    owned: true,
                }
            }
        };
        self.spans.push(span);
        Some(tail_end)
    }
}

/// `end`, moved back over one `\r` that ends the line.
fn trim_cr(b: &[u8], start: usize, end: usize) -> usize {
    if end > start && b[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

impl Cells for Record<'_> {
    fn len(&self) -> usize {
        self.spans.len()
    }

    fn cell(&self, i: usize) -> &str {
        let s = self.spans[i];
        if s.owned {
            // Pieces of a valid record, cut at ASCII bytes, so valid too.
            std::str::from_utf8(&self.scratch[s.start..s.end]).unwrap_or_default()
        } else {
            let base = self.content.start;
            self.line
                .get(s.start - base..s.end - base)
                .unwrap_or_default()
        }
    }
}

/// Picks the delimiter of a header line: the most frequent of the candidates
/// outside quotes, earlier candidates winning ties; `None` when none occurs.
pub fn sniff_delimiter(line: &str, candidates: &[u8]) -> Option<u8> {
    let mut counts = vec![0usize; candidates.len()];
    let mut quoted = false;
    for &c in line.as_bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(k) = candidates.iter().position(|d| *d == c) {
            counts[k] += 1;
        }
    }
    let (best, n) = counts.iter().enumerate().rev().max_by_key(|(_, n)| **n)?;
    (*n > 0).then_some(candidates[best])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, delim: u8) -> Vec<(Vec<String>, Ending)> {
        let mut out = Vec::new();
        let mut r = Record::new(text);
        let mut p = 0;
        while p < text.len() {
            p = r.parse(p, text.len(), delim);
            out.push((
                (0..r.len()).map(|i| r.cell(i).to_string()).collect(),
                r.ending,
            ));
        }
        out
    }

    #[test]
    fn quoted_fields_keep_delimiters_newlines_and_doubled_quotes() {
        let got = fields(
            "a,\"b,c\",\"d\ne\"\r\n\"x\"\"y\",5号楼\"A\"座,\"t\"ail\n",
            b',',
        );
        assert_eq!(got[0].0, ["a", "b,c", "d\ne"]);
        assert_eq!(got[1].0, ["x\"y", "5号楼\"A\"座", "tail"]);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn an_unclosed_quote_runs_to_the_end() {
        let got = fields("a,b\n\"c,d\ne,f\n", b',');
        assert_eq!(got[1].1, Ending::UnterminatedQuote);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn chunks_never_split_a_quoted_newline() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!("{i},\"line\nbreak {i}\",\"q\"\"\n\"\n"));
        }
        for target in [1, 3, 7, 50, 1000] {
            let chunks = split_records(text.as_bytes(), 0, b',', target);
            let mut rows = 0;
            for c in &chunks {
                let mut r = Record::new(&text);
                let mut p = c.start;
                while p < c.end {
                    p = r.parse(p, c.end, b',');
                    assert_eq!(r.len(), 3, "target {target}");
                    assert_eq!(r.ending, Ending::Complete);
                    rows += 1;
                }
            }
            assert_eq!(rows, 200, "target {target}");
        }
    }

    #[test]
    fn sniffs_the_most_frequent_candidate() {
        assert_eq!(sniff_delimiter("a\tb\tc,d", b",\t;|"), Some(b'\t'));
        assert_eq!(sniff_delimiter("\"a,b\";c", b",\t;|"), Some(b';'));
        assert_eq!(sniff_delimiter("a,b\tc", b",\t;|"), Some(b','));
        assert_eq!(sniff_delimiter("abc", b",\t;|"), None);
    }
}
