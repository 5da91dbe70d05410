//! HTTP integration tests: the real application on a random port, spoken to over HTTP. Each test
//! gets its own database: a temporary SQLite file, or — with `HEXGATE_TEST_DATABASE=postgres` — a
//! fresh PostgreSQL database that is dropped afterwards. With `HEXGATE_TEST_REDIS=1` the app also
//! uses the real Redis, under a key prefix of each test's own.

mod account;
mod account_page;
mod api_keys;
mod audit;
mod auth;
mod browser;
mod chat;
mod chat_session;
mod cli;
mod codes;
mod commerce;
mod conventions;
mod files;
mod helpers;
mod mail;
mod mfa;
mod observability;
mod organizations;
mod paging;
mod passkeys;
mod scale;
mod signing_keys;
mod system;
mod tokens;
mod users;
