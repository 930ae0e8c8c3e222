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
    let m = &s.matching;
    let _ = writeln!(out, "  model: {}", m.model);
    match (&m.fallback, m.mode) {
        (Some(why), _) => {
            let _ = writeln!(out, "  matching: full ({why})");
        }
        (None, "incremental") => {
            let _ = writeln!(
                out,
                "  matching: incremental ({} records new or changed; {} pairs compared, {} reused)",
                m.records_changed, m.pairs_compared, m.pairs_reused
            );
        }
        (None, mode) => {
            let _ = writeln!(
                out,
                "  matching: {mode} ({} pairs compared)",
                m.pairs_compared
            );
        }
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
        let why = s
            .analyst_skipped_because
            .as_deref()
            .unwrap_or("no pseudonym key configured");
        let _ = writeln!(
            out,
            "  analyst tier: not written ({why}; see docs/privacy.md)"
        );
    }
    if !s.dropped_by_default.is_empty() {
        let _ = writeln!(
            out,
            "  warning: the privacy policy does not name {}; dropped from the analyst tier",
            s.dropped_by_default.join(", ")
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
