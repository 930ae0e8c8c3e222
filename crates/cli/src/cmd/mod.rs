//! One module per subcommand, each opening with its usage and examples.

pub mod check;
pub mod demo;
pub mod diff;
pub mod evaluate;
pub mod explain;
pub mod run;
pub mod synth;
pub mod verify;
