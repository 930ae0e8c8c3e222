//! `aidlink demo`: the first command a new user runs.
//!
//! ```text
//! cargo run --release -- demo
//! aidlink demo --out /tmp/aidlink-demo --students 5000
//! ```
//!
//! Generates a small synthetic city (nothing real), runs two consecutive
//! months through the whole flow and prints what a person needs: rows and
//! rejects per source, persons resolved, flags by kind, changes between the
//! months, and where the files are.

use crate::exit::{Exit, ExitContext, Failure};
use crate::pipeline::{self, RunOptions};
use aidlink_vocab::Period;
use clap::Args;
use std::path::PathBuf;

/// Generate a small synthetic city and run two months on it.
#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo city and its outputs.
    #[arg(long, default_value = "aidlink-demo")]
    pub out: PathBuf,
    /// Number of students in the demo city.
    #[arg(long, default_value_t = 3000)]
    pub students: u64,
    /// Random seed of the demo city.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// The pseudonym key the demo uses. Only for synthetic data: a real
/// deployment keeps its key outside the output folder (docs/privacy.md).
const DEMO_KEY: &str = "aidlink demo key: synthetic data only, never use for real extracts\n";

/// Runs the subcommand.
pub fn main(args: DemoArgs) -> Result<Exit, Failure> {
    let start = Period {
        year: 2026,
        month: 1,
    };
    let city = args.out.join("city");
    let out = args.out.join("out");
    println!(
        "generating a synthetic city of {} students in {}",
        args.students,
        city.display()
    );
    aidlink_synth::generate(&aidlink_synth::SynthOptions {
        students: args.students,
        seed: args.seed,
        months: 2,
        start,
        out: city.clone(),
        rates: Default::default(),
    })
    .exit(Exit::Output)?;
    let key_path = city.join("demo.key");
    write_private(&key_path, DEMO_KEY.as_bytes()).exit(Exit::Output)?;
    let config_path = city.join("demo.toml");
    let mut config_text = aidlink_synth::DEMO_CONFIG.to_string();
    if !config_text.contains("[privacy]") {
        config_text.push_str("\n# Added by `aidlink demo`: a demo key, so the analyst tier is written.\n[privacy]\nkey_file = \"demo.key\"\n");
    }
    std::fs::write(&config_path, config_text).exit(Exit::Output)?;

    let mut worst = Exit::Ok;
    for period in [start, start.next()] {
        println!();
        let summary = pipeline::run(&RunOptions {
            config: config_path.clone(),
            period,
            out: out.clone(),
            model: None,
            wait: std::time::Duration::ZERO,
            full: false,
            retrain: false,
        })?;
        print!("{}", crate::summary::render(&summary));
        if summary.reject_share > summary.max_reject_share {
            worst = Exit::OkWithRejects;
        }
    }
    println!();
    println!("next steps:");
    println!(
        "  aidlink diff --out {} --from {} --to {}",
        out.display(),
        start,
        start.next()
    );
    println!(
        "  aidlink evaluate --out {} --period {} --truth {}",
        out.display(),
        start,
        city.join("truth").display()
    );
    println!("  aidlink verify --out {}", out.display());
    println!(
        "  duckdb -c \"select flag, count(*) from '{}/periods/{}/analyst/flags.parquet' group by 1\"",
        out.display(),
        start.next()
    );
    Ok(worst)
}

/// Writes a file readable by its owner only, as a key file must be.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // A key file left by an earlier demo keeps its old mode otherwise.
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    options.open(path)?.write_all(bytes)
}
