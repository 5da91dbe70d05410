//! HTTP integration tests: the real application on a random port, spoken to over HTTP. Each test
//! gets its own database: a temporary SQLite file, or — with `HEXGATE_TEST_DATABASE=postgres` — a
//! fresh PostgreSQL database that is dropped afterwards.

mod auth;
mod cli;
mod conventions;
mod helpers;
mod system;
mod tokens;
mod users;
