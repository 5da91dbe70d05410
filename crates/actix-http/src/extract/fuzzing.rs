//! Entry points for `cargo fuzz` (`fuzz/`, built with the `fuzzing` feature): the request
//! decoders exactly as the extractors run them, from raw bytes, with the invariants a finding
//! breaks checked here so every target states them once.

use serde::de::DeserializeOwned;

use super::IntoDomain;
use super::decode::decode_json;
use super::json::parse_json;
use super::query::decode as decode_query;
use crate::dto::{
    BatchCreate, FieldError, ForgotPassword, LogoutRequest, OrderCreate, OrderListQuery, PasswordChange,
    PermissionsUpdate, PreferencesBody, ProductCreate, ProductListQuery, ProductPatch, RefreshRequest, ResetPassword,
    UserCreate, UserListQuery, UserPatch, VerifyEmail,
};

/// How a decoder answered: accepted, refused as malformed JSON (400), or refused with the
/// listed fields (422).
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Malformed,
    Refused(usize),
}

/// The JSON bodies the API reads, in a fixed order so a fuzz input's first byte picks one.
pub const BODIES: usize = 14;

/// Decodes `bytes` as the request body of kind `kind % BODIES`.
///
/// # Panics
/// When a refusal breaks the error contract: no field named, a field outside `body`, or an
/// empty code.
#[must_use]
pub fn json_body(kind: u8, bytes: &[u8]) -> Outcome {
    let Ok(value) = parse_json(bytes) else { return Outcome::Malformed };
    let result = match kind as usize % BODIES {
        0 => body::<UserCreate>(value),
        1 => body::<UserPatch>(value),
        2 => body::<PermissionsUpdate>(value),
        3 => body::<BatchCreate>(value),
        4 => body::<ProductCreate>(value),
        5 => body::<ProductPatch>(value),
        6 => body::<OrderCreate>(value),
        7 => body::<PreferencesBody>(value),
        8 => body::<PasswordChange>(value),
        9 => body::<RefreshRequest>(value),
        10 => body::<LogoutRequest>(value),
        11 => body::<ForgotPassword>(value),
        12 => body::<ResetPassword>(value),
        _ => body::<VerifyEmail>(value),
    };
    outcome(result, "body")
}

/// The query strings the API reads.
pub const QUERIES: usize = 3;

/// Decodes `query` as the query string of kind `kind % QUERIES`.
///
/// # Panics
/// As [`json_body`], for fields outside `query`.
#[must_use]
pub fn query(kind: u8, query: &str) -> Outcome {
    let result = match kind as usize % QUERIES {
        0 => decode_query::<UserListQuery>(query).map(drop),
        1 => decode_query::<ProductListQuery>(query).map(drop),
        _ => decode_query::<OrderListQuery>(query).map(drop),
    };
    outcome(result, "query")
}

fn body<T>(value: serde_json::Value) -> Result<(), Vec<FieldError>>
where
    T: DeserializeOwned + garde::Validate<Context = ()> + apistos::schemars::JsonSchema + IntoDomain + 'static,
{
    decode_json::<T>(value, "body").map(drop)
}

fn outcome(result: Result<(), Vec<FieldError>>, prefix: &str) -> Outcome {
    match result {
        Ok(()) => Outcome::Accepted,
        Err(errors) => {
            assert!(!errors.is_empty(), "a refusal must name at least one field");
            for error in &errors {
                let field = error.field.as_deref().unwrap_or_default();
                assert!(
                    field == prefix || field.starts_with(&format!("{prefix}.")),
                    "field {field:?} is outside {prefix}"
                );
                assert!(!error.code.is_empty(), "field {field:?} has no code");
                assert!(!error.message.is_empty(), "field {field:?} has no message");
            }
            Outcome::Refused(errors.len())
        }
    }
}
