//! Request and response bodies. A request DTO is checked against its own published schema, then
//! becomes domain values through `IntoDomain` (the rules themselves are the domain's parsers);
//! schemas and examples for the OpenAPI document come from schemars attributes.

mod api_keys;
mod audit;
mod auth;
mod commerce;
mod common;
mod files;
mod keys;
mod mfa;
mod orgs;
mod passkeys;
mod system;
mod users;

pub(crate) use api_keys::*;
pub(crate) use audit::*;
pub(crate) use auth::*;
pub(crate) use commerce::*;
pub(crate) use common::*;
pub(crate) use files::*;
pub(crate) use keys::*;
pub(crate) use mfa::*;
pub(crate) use orgs::*;
pub(crate) use passkeys::*;
pub(crate) use system::*;
pub(crate) use users::*;
