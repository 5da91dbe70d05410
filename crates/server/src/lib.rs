//! The `hexgate` binary's library: configuration, adapter wiring, start-up and the CLI. Tests use
//! the same [`startup::Application`] the binary runs.

pub mod cli;
pub mod config;
pub mod key_retirement;
pub mod retention;
pub mod startup;
pub mod telemetry;
pub mod workers;
