pub(crate) mod envelope;
pub(crate) mod rate_limit;
pub mod request_id;
pub(crate) mod trace;
