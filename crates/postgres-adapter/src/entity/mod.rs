pub(crate) mod refresh_tokens;
pub(crate) mod sessions;
pub(crate) mod users;
