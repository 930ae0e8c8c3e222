//! The `aidlink` command line: thin glue over the stage crates.
//!
//! Each subcommand lives in its own module under `cmd/`, opening with its
//! usage. Only this crate knows about clap, environment variables, the
//! terminal and exit codes (see `exit.rs`).

mod cmd;
mod exit;
mod logging;
mod pipeline;
mod summary;

use clap::{Args, Parser, Subcommand};
use exit::Exit;

/// Links departmental extracts (school enrollment, civil-affairs subsidy,
/// household register, disability certificates), resolves who is who, flags
/// students in difficulty who miss aid, get it twice, or still get it after
/// they stopped qualifying, and publishes each month as Parquet.
#[derive(Parser)]
#[command(name = "aidlink", version, about, long_about = None)]
#[command(
    after_help = "Start with `aidlink demo`: it generates a small synthetic city, runs two months and shows where the outputs are."
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand takes.
#[derive(Args)]
struct Common {
    /// Log format on stderr: text for people, json for cron.
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Text)]
    log_format: logging::LogFormat,
    /// More log detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    quiet: u8,
    /// Worker threads (default: all cores). Outputs are identical for any value.
    #[arg(long, global = true)]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    Run(cmd::run::RunArgs),
    Demo(cmd::demo::DemoArgs),
    Check(cmd::check::CheckArgs),
    Synth(cmd::synth::SynthArgs),
    Explain(cmd::explain::ExplainArgs),
    Diff(cmd::diff::DiffArgs),
    Verify(cmd::verify::VerifyArgs),
    Evaluate(cmd::evaluate::EvaluateArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let verbosity = cli.common.verbose as i8 - cli.common.quiet as i8;
    logging::init(cli.common.log_format, verbosity);
    if let Some(n) = cli.common.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
    {
        eprintln!("aidlink: cannot set up {n} threads: {e}");
        return std::process::ExitCode::from(Exit::Usage as u8);
    }
    let result = match cli.command {
        Command::Run(a) => cmd::run::main(a),
        Command::Demo(a) => cmd::demo::main(a),
        Command::Check(a) => cmd::check::main(a),
        Command::Synth(a) => cmd::synth::main(a),
        Command::Explain(a) => cmd::explain::main(a),
        Command::Diff(a) => cmd::diff::main(a),
        Command::Verify(a) => cmd::verify::main(a),
        Command::Evaluate(a) => cmd::evaluate::main(a),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code as u8),
        Err(f) => {
            eprintln!("aidlink: error: {f}");
            std::process::ExitCode::from(f.exit as u8)
        }
    }
}
