//! Generates a synthetic city from the command line, for benchmarks and for
//! looking at the output without the full CLI:
//!
//! ```text
//! cargo run --release -p aidlink-synth --example synth -- --students 1000000 --months 1 --out /tmp/city
//! ```

use aidlink_synth::{CorruptionRates, SynthOptions, generate};
use aidlink_vocab::Period;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut opts = SynthOptions {
        students: 3000,
        seed: 42,
        months: 1,
        start: Period {
            year: 2026,
            month: 9,
        },
        out: "synth-out".into(),
        rates: CorruptionRates::default(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let (key, value) = (
            pair[0].as_str(),
            pair.get(1).map(String::as_str).unwrap_or(""),
        );
        let ok = match key {
            "--students" => value.parse().map(|v| opts.students = v).is_ok(),
            "--seed" => value.parse().map(|v| opts.seed = v).is_ok(),
            "--months" => value.parse().map(|v| opts.months = v).is_ok(),
            "--start" => Period::parse(value).map(|v| opts.start = v).is_ok(),
            "--out" => {
                opts.out = value.into();
                true
            }
            _ => false,
        };
        if !ok {
            eprintln!(
                "usage: synth [--students N] [--seed S] [--months M] [--start YYYY-MM] [--out DIR]"
            );
            return ExitCode::from(2);
        }
    }
    let t = Instant::now();
    match generate(&opts) {
        Ok(s) => {
            for ((period, source), n) in &s.rows {
                println!("{period} {source:<10} {n:>10} rows");
            }
            println!("{} persons, {:.2} s", s.persons, t.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
