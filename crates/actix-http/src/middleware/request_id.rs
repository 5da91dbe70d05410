//! The request id: kept from `X-Request-ID` when it is sane, made fresh otherwise, and carried in
//! a task-local so error bodies built deep inside a handler can quote it.

use actix_web::http::header::HeaderValue;

tokio::task_local! {
    static REQUEST_ID: String;
}

pub const HEADER: &str = "x-request-id";

/// 1..=128 characters of `[A-Za-z0-9._-]`; anything else is replaced.
#[must_use]
pub fn accept_or_generate(incoming: Option<&HeaderValue>) -> String {
    incoming
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

/// The current request's id; outside a request, a fresh one (never empty).
#[must_use]
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| uuid::Uuid::now_v7().to_string())
}

pub(crate) async fn scope<F: std::future::Future>(id: String, fut: F) -> F::Output {
    REQUEST_ID.scope(id, fut).await
}

pub(crate) fn sync_scope<R>(id: String, f: impl FnOnce() -> R) -> R {
    REQUEST_ID.sync_scope(id, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_incoming_id_is_kept_and_anything_else_replaced() {
        let keep = HeaderValue::from_static("abc-123_x.y");
        assert_eq!(accept_or_generate(Some(&keep)), "abc-123_x.y");
        for bad in ["", "has space", "semi;colon", &"a".repeat(129)] {
            let v = HeaderValue::from_str(bad).expect("header");
            let got = accept_or_generate(Some(&v));
            assert_ne!(got, bad);
            assert_eq!(got.len(), 36);
        }
        assert_eq!(accept_or_generate(None).len(), 36);
    }
}
