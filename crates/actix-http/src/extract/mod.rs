mod auth;
mod context;
mod decode;
mod domain;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod json;
mod multipart;
mod query;
pub(crate) mod scopes;
mod token_form;

pub(crate) use auth::{CurrentUser, KnownKey, MaybeUser, SessionUser, bearer, is_api_key};
pub(crate) use context::Context;
pub(crate) use domain::{IntoDomain, Rules, as_is};
pub(crate) use json::{OptionalJson, ValidJson};
pub(crate) use multipart::FileUpload;
pub(crate) use query::ValidQuery;
pub(crate) use token_form::TokenForm;
