//! Exit codes: the contract with the data office's cron job.
//!
//! Only this crate knows about exit codes; library crates return typed errors
//! and the command modules decide which code each one means.

use std::fmt;

/// What a run's exit status tells cron. Documented in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Everything done.
    Ok = 0,
    /// Done and published, but rejected rows (or warnings) exceed the
    /// configured limit: someone should look at `rejects.parquet`.
    OkWithRejects = 1,
    /// The command line or the config is wrong; nothing was read.
    Usage = 2,
    /// An input file is missing or unreadable, or lacks mapped columns.
    Input = 3,
    /// The output folder is locked by another run, or cannot be written.
    Output = 4,
    /// A published file does not match its manifest (`aidlink verify`).
    Verify = 5,
    /// A bug: please report it with the log.
    Internal = 70,
}

/// An error that knows which exit code it should produce.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What went wrong, with its causes.
    pub error: anyhow::Error,
}

impl fmt::Display for Failure {
    /// The error and its causes, `: `-separated; a cause whose text the
    /// message already contains (many errors quote their source) is skipped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut message = String::new();
        for cause in self.error.chain() {
            let text = cause.to_string();
            if message.contains(&text) {
                continue;
            }
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        f.write_str(&message)
    }
}

/// Attaches an exit code to any error.
pub trait ExitContext<T> {
    /// Marks the error with the exit code it should produce.
    fn exit(self, exit: Exit) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ExitContext<T> for Result<T, E> {
    fn exit(self, exit: Exit) -> Result<T, Failure> {
        self.map_err(|e| Failure {
            exit,
            error: e.into(),
        })
    }
}

/// Builds a failure from a message.
pub fn fail(exit: Exit, message: impl fmt::Display) -> Failure {
    Failure {
        exit,
        error: anyhow::anyhow!("{message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read x.csv: {source}")]
    struct Quoting {
        source: std::io::Error,
    }

    #[test]
    fn causes_already_quoted_are_not_repeated() {
        let inner = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let f = Failure {
            exit: Exit::Input,
            error: anyhow::Error::new(Quoting { source: inner }).context("source enrollment"),
        };
        assert_eq!(
            f.to_string(),
            "source enrollment: cannot read x.csv: no such file"
        );
    }
}
