//! The run summary a person reads at the end of `aidlink run` and `aidlink demo`.

use crate::pipeline::RunSummary;
use std::fmt::Write;

/// Renders the summary as aligned text.
pub fn render(s: &RunSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "period {}  ({:.1} s)", s.period, s.seconds);
    let _ = writeln!(
        out,
        "  {:<14} {:>10} {:>10} {:>10}  encoding",
        "source", "rows", "accepted", "rejected"
    );
    for src in &s.sources {
        let _ = writeln!(
            out,
            "  {:<14} {:>10} {:>10} {:>10}  {}",
            src.name, src.rows_read, src.rows_accepted, src.rows_rejected, src.encoding
        );
    }
    let _ = writeln!(out, "  persons resolved: {}", s.persons);
    if s.flags.is_empty() {
        let _ = writeln!(out, "  flags: none");
    } else {
        let _ = writeln!(out, "  flags:");
        for (flag, n) in &s.flags {
            let _ = writeln!(out, "    {flag:<22} {n:>8}");
        }
    }
    if !s.changes.is_empty() {
        let parts: Vec<String> = s.changes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "  changes since last period: {}", parts.join(", "));
    }
    let _ = writeln!(out, "  published: {}", s.period_dir.display());
    if !s.analyst_tier {
        let _ = writeln!(
            out,
            "  analyst tier: not written (no pseudonym key configured; see docs/privacy.md)"
        );
    }
    if s.reject_share > s.max_reject_share {
        let _ = writeln!(
            out,
            "  warning: {:.2}% of rows rejected, above the limit of {:.2}% (see rejects.parquet)",
            s.reject_share * 100.0,
            s.max_reject_share * 100.0
        );
    }
    out
}
