//! Request and response bodies. Requests are checked with garde (the rules themselves come from
//! the domain); schemas and examples for the OpenAPI document come from schemars attributes.

mod auth;
mod commerce;
mod common;
mod files;
mod system;
mod users;

pub(crate) use auth::*;
pub(crate) use commerce::*;
pub(crate) use common::*;
pub(crate) use files::*;
pub(crate) use system::*;
pub(crate) use users::*;
