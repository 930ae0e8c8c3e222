//! Generates synthetic departmental extracts of a city, with ground truth.
//!
//! [`generate`] writes, for `months` consecutive periods, the four extracts
//! a city's departments export (school enrollment, civil-affairs subsidy,
//! household register, disability certificates), each the way that
//! department really writes it (own Chinese headers, GB18030 or UTF-8, CSV
//! or TSV, own codes, own kinds of mess), plus `truth/` files that say whose
//! every row is, which flags every person truly has, and what changed from
//! month to month. The layout on disk and every definition are documented in
//! `docs/synth.md`.
//!
//! The city streams: each household's whole multi-month story is a pure
//! function of the seed and the household's index ([`household::build`]),
//! so households are generated a chunk at a time (in parallel with rayon),
//! written in index order through buffered writers, and dropped. Memory does
//! not grow with the number of students, and the same options always give
//! byte-identical files whatever the thread count.
//!
//! ```no_run
//! use aidlink_synth::{CorruptionRates, SynthOptions, generate};
//! use aidlink_vocab::Period;
//! let summary = generate(&SynthOptions {
//!     students: 3000,
//!     seed: 42,
//!     months: 2,
//!     start: Period::parse("2026-09").unwrap(),
//!     out: "demo-out".into(),
//!     rates: CorruptionRates::default(),
//! })?;
//! println!("{} persons", summary.persons);
//! # Ok::<(), aidlink_synth::SynthError>(())
//! ```

pub mod household;
pub mod layout;
pub mod mess;
pub mod names;
mod output;
pub mod place;
mod rates;
pub mod render;
mod stats;
pub mod truth;

pub use rates::{CorruptionRates, RateError, SourceRates};
pub use truth::Flag;

use aidlink_vocab::Period;
use household::{Frame, purpose};
use layout::{Layout, SOURCES};
use output::Out;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use thiserror::Error;

/// The demo config; written verbatim as `aidlink.toml` next to the extracts.
pub const DEMO_CONFIG: &str = include_str!("../../../configs/demo.toml");

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthOptions {
    /// Students enrolled in the first period (exact).
    pub students: u64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of consecutive periods, at least 1.
    pub months: u32,
    /// The first period.
    pub start: Period,
    /// Output folder (created; existing files are overwritten).
    pub out: PathBuf,
    /// Corruption rates per source.
    pub rates: CorruptionRates,
}

/// What was generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthSummary {
    /// The periods written, in order.
    pub periods: Vec<Period>,
    /// Data rows per period and source name (broken copies included).
    pub rows: BTreeMap<(Period, String), u64>,
    /// Distinct true persons with at least one row in some period.
    pub persons: u64,
}

/// Why generation failed.
#[derive(Debug, Error)]
pub enum SynthError {
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The embedded demo config does not parse.
    #[error("demo config: {0}")]
    Config(#[from] aidlink_config::ConfigError),
    /// The demo config lacks one of the generated sources.
    #[error(
        "demo config has no [sources.{name}]; the generator writes enrollment, subsidy, household, disability"
    )]
    MissingSource {
        /// The source name.
        name: String,
    },
    /// The demo config maps no header for a column the generator writes.
    #[error(
        "demo config: sources.{name}.columns maps no `{field}`; the generator writes: {written}"
    )]
    MissingColumn {
        /// The source name.
        name: String,
        /// The canonical field without a header.
        field: String,
        /// Every field the generator writes for that source.
        written: String,
    },
    /// Zero months were asked for.
    #[error("months must be at least 1, got 0")]
    NoMonths,
}

/// Households per chunk: the unit of parallel work and of row shuffling.
const CHUNK: usize = 256;

/// One chunk's output for one month.
struct ChunkMonth {
    /// Encoded data rows per source.
    bytes: [Vec<u8>; 4],
    /// True person of each data row, per source, in file order.
    persons: [Vec<u64>; 4],
    /// True flags, as (person, flag), sorted within each household.
    flags: Vec<(u64, Flag)>,
    /// Flags that appear (true) or clear (false) against the previous month.
    changes: Vec<(u64, Flag, bool)>,
}

struct ChunkOut {
    months: Vec<ChunkMonth>,
    stats: stats::Stats,
}

struct Context<'a> {
    frame: Frame,
    layout: &'a Layout,
    rates: &'a CorruptionRates,
}

fn run_chunk(ctx: &Context, chunk: u64, households: &[(u64, u64)]) -> ChunkOut {
    let months = ctx.frame.months as usize;
    let mut rows: Vec<[Vec<render::Row>; 4]> = (0..months).map(|_| Default::default()).collect();
    let mut flags: Vec<Vec<(u64, Flag)>> = vec![Vec::new(); months];
    let mut changes: Vec<Vec<(u64, Flag, bool)>> = vec![Vec::new(); months];
    let mut st = stats::Stats::default();
    for &(index, students) in households {
        let hh = household::build(&ctx.frame, index, students);
        let r = render::render(&ctx.frame, &hh, ctx.layout, ctx.rates);
        st.add_household(&hh, &r);
        let mut previous: BTreeSet<(usize, Flag)> = BTreeSet::new();
        for (m, (month_rows, facts)) in r.rows.into_iter().zip(&r.facts).enumerate() {
            let now = truth::flags(&ctx.frame, &hh, m as i32, facts, &ctx.layout.rules);
            st.add_flags(&now);
            st.pairs.add(&truth::pair_levels(facts));
            flags[m].extend(now.iter().map(|(who, f)| (hh.persons[*who].no, *f)));
            if m > 0 {
                let mut ch: Vec<(u64, Flag, bool)> = now
                    .difference(&previous)
                    .map(|(who, f)| (hh.persons[*who].no, *f, true))
                    .chain(
                        previous
                            .difference(&now)
                            .map(|(who, f)| (hh.persons[*who].no, *f, false)),
                    )
                    .collect();
                ch.sort();
                changes[m].extend(ch);
            }
            previous = now;
            for (s, source_rows) in month_rows.into_iter().enumerate() {
                rows[m][s].extend(source_rows);
            }
        }
    }
    let mut out = Vec::with_capacity(months);
    for (m, ((month_rows, flags), changes)) in rows.into_iter().zip(flags).zip(changes).enumerate()
    {
        let mut bytes: [Vec<u8>; 4] = Default::default();
        let mut persons: [Vec<u64>; 4] = Default::default();
        for (s, mut source_rows) in month_rows.into_iter().enumerate() {
            // Departments do not export in household order: shuffle within
            // the chunk, differently each month.
            let key = household::mix(&[chunk, m as u64, s as u64]);
            source_rows.shuffle(&mut household::stream(
                ctx.frame.seed,
                purpose::SHUFFLE,
                key,
            ));
            bytes[s] = output::encode_rows(
                &ctx.layout.sources[s],
                source_rows.iter().map(|r| r.fields.as_slice()),
            );
            persons[s] = source_rows.iter().map(|r| r.person).collect();
        }
        out.push(ChunkMonth {
            bytes,
            persons,
            flags,
            changes,
        });
    }
    ChunkOut {
        months: out,
        stats: st,
    }
}

/// The files of one period.
struct PeriodFiles {
    extracts: Vec<Out>,
    /// Truth rows per source, concatenated into `rows.csv` at the end so the
    /// file lists sources in order, each by row number.
    rows: Vec<Out>,
    flags: Out,
    changes: Option<Out>,
    counts: [u64; 4],
}

/// Writes the synthetic city described by `opts` under `opts.out`.
pub fn generate(opts: &SynthOptions) -> Result<SynthSummary, SynthError> {
    if opts.months == 0 {
        return Err(SynthError::NoMonths);
    }
    let layout = Layout::from_config(DEMO_CONFIG)?;
    let frame = Frame {
        seed: opts.seed,
        start: opts.start,
        months: opts.months,
    };
    let ctx = Context {
        frame,
        layout: &layout,
        rates: &opts.rates,
    };
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|source| SynthError::Io {
        path: out.clone(),
        source,
    })?;
    output::write_file(&out.join("aidlink.toml"), DEMO_CONFIG.as_bytes())?;
    let periods: Vec<Period> = (0..opts.months as i32).map(|m| frame.period(m)).collect();
    let mut files = Vec::with_capacity(periods.len());
    for (m, p) in periods.iter().enumerate() {
        let dir = out.join("extracts").join(p.to_string());
        let mut extracts = Vec::with_capacity(4);
        for l in &layout.sources {
            let mut o = Out::create(dir.join(l.file))?;
            o.write(&output::header_bytes(l))?;
            extracts.push(o);
        }
        let truth = out.join("truth").join(p.to_string());
        let rows = SOURCES
            .iter()
            .map(|s| Out::create(truth.join(format!(".rows-{s}.part"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut flags = Out::create(truth.join("flags.csv"))?;
        flags.write(b"true_person,flag\n")?;
        let changes = if m > 0 {
            Some(Out::create(truth.join(".changes.part"))?)
        } else {
            None
        };
        files.push(PeriodFiles {
            extracts,
            rows,
            flags,
            changes,
            counts: [0; 4],
        });
    }

    // Plan households: each gets its own student count; the last is capped
    // so the first period has exactly `students` students.
    let mut remaining = opts.students;
    let mut next_index = 0u64;
    let window = (32 / opts.months as usize).max(2);
    let mut totals = stats::Stats::default();
    let mut chunk_no = 0u64;
    while remaining > 0 {
        let mut batch: Vec<(u64, Vec<(u64, u64)>)> = Vec::with_capacity(window);
        while batch.len() < window && remaining > 0 {
            let mut hhs = Vec::with_capacity(CHUNK);
            while hhs.len() < CHUNK && remaining > 0 {
                let n = household::students_of(opts.seed, next_index).min(remaining);
                hhs.push((next_index, n));
                remaining -= n;
                next_index += 1;
            }
            batch.push((chunk_no, hhs));
            chunk_no += 1;
        }
        let done: Vec<ChunkOut> = batch
            .par_iter()
            .map(|(c, hhs)| run_chunk(&ctx, *c, hhs))
            .collect();
        for chunk in done {
            totals.add(&chunk.stats);
            for (m, cm) in chunk.months.into_iter().enumerate() {
                write_month(&mut files[m], &periods, m, cm)?;
            }
        }
    }

    let mut summary = SynthSummary {
        periods: periods.clone(),
        rows: BTreeMap::new(),
        persons: totals.persons_with_rows,
    };
    let mut change_parts = Vec::new();
    for (m, f) in files.into_iter().enumerate() {
        let parts = f
            .rows
            .into_iter()
            .map(Out::finish)
            .collect::<Result<Vec<_>, _>>()?;
        let truth = out.join("truth").join(periods[m].to_string());
        output::concat(
            &truth.join("rows.csv"),
            b"source,source_row,true_person\n",
            &parts,
        )?;
        for (s, name) in SOURCES.iter().enumerate() {
            summary
                .rows
                .insert((periods[m], name.to_string()), f.counts[s]);
        }
        for e in f.extracts {
            e.finish()?;
        }
        f.flags.finish()?;
        if let Some(c) = f.changes {
            change_parts.push(c.finish()?);
        }
    }
    // Month-to-month changes, in period order, from the per-period parts.
    output::concat(
        &out.join("truth").join("changes.csv"),
        b"period,true_person,flag,change\n",
        &change_parts,
    )?;
    let params = stats::params_json(opts, &totals, &summary);
    output::write_file(&out.join("truth").join("params.json"), params.as_bytes())?;
    Ok(summary)
}

fn write_month(
    f: &mut PeriodFiles,
    periods: &[Period],
    m: usize,
    cm: ChunkMonth,
) -> Result<(), SynthError> {
    for (s, source) in SOURCES.iter().enumerate() {
        f.extracts[s].write(&cm.bytes[s])?;
        let mut truth_rows = String::with_capacity(cm.persons[s].len() * 32);
        for person in &cm.persons[s] {
            f.counts[s] += 1;
            truth_rows.push_str(&format!("{source},{},T{person:08}\n", f.counts[s]));
        }
        f.rows[s].write(truth_rows.as_bytes())?;
    }
    let mut text = String::new();
    for (person, flag) in &cm.flags {
        text.push_str(&format!("T{person:08},{}\n", flag.name()));
    }
    f.flags.write(text.as_bytes())?;
    if let Some(c) = f.changes.as_mut() {
        let mut text = String::new();
        for (person, flag, appears) in &cm.changes {
            let change = if *appears { "appears" } else { "clears" };
            text.push_str(&format!(
                "{},T{person:08},{},{change}\n",
                periods[m],
                flag.name()
            ));
        }
        c.write(text.as_bytes())?;
    }
    Ok(())
}
