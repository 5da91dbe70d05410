//! Access tokens verified in the last second, so a token presented again at once is not verified
//! again. An Ed25519 verification costs tens of microseconds, and every authenticated request
//! verified its token twice (the rate limiter keys by the token's user, then authentication): the
//! largest share of the CPU spent on `GET /users/me` (docs/benchmarks.md).
//!
//! Only `verify_access` (which reads the key store again when its cached keys are stale) adds
//! entries; `verify_access_cached` reads them. Only what the signature check decides is remembered, never whether the token is revoked or
//! its session or user still live (those are asked on every request, as before). An entry is
//! trusted for at most [`VerifiedTokens::TTL`] and never past the token's own expiry, so a
//! retired signing key stops being honoured within a second, like everything else.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use hexgate_ports::AccessClaims;

pub(crate) struct VerifiedTokens {
    entries: Mutex<HashMap<Box<str>, (AccessClaims, Instant)>>,
    leeway_secs: i64,
}

impl VerifiedTokens {
    /// How long a verification is trusted.
    pub(crate) const TTL: Duration = Duration::from_secs(1);
    /// Entries kept at most (a few hundred bytes each); when full, the stale ones go, and all of
    /// them if none is stale.
    const CAPACITY: usize = 4096;

    pub(crate) fn new(leeway_secs: i64) -> Self {
        Self { entries: Mutex::new(HashMap::new()), leeway_secs }
    }

    /// The claims of `token` if it was verified less than [`Self::TTL`] ago and has not expired.
    pub(crate) fn get(&self, token: &str) -> Option<AccessClaims> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let (claims, at) = entries.get(token)?;
        let live = at.elapsed() < Self::TTL
            && claims.expires_at.timestamp().saturating_add(self.leeway_secs) > Utc::now().timestamp();
        live.then(|| claims.clone())
    }

    /// Remembers that `token` verified, with `claims`.
    pub(crate) fn put(&self, token: &str, claims: &AccessClaims) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(token.into(), (claims.clone(), Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as ChronoDuration;
    use hexgate_domain::{SessionId, UserId};

    use super::*;

    fn claims(expires_in: i64) -> AccessClaims {
        AccessClaims {
            user_id: UserId::new(),
            session_id: SessionId::new(),
            jti: "jti".into(),
            expires_at: Utc::now() + ChronoDuration::seconds(expires_in),
        }
    }

    #[test]
    fn a_verified_token_is_remembered_for_a_second_and_never_past_its_expiry() {
        let cache = VerifiedTokens::new(0);
        assert_eq!(cache.get("a"), None);
        let live = claims(60);
        cache.put("a", &live);
        assert_eq!(cache.get("a"), Some(live));
        assert_eq!(cache.get("b"), None, "only the very token");
        cache.put("old", &claims(-1));
        assert_eq!(cache.get("old"), None, "expired tokens are not answered from the cache");
        let mut entries = cache.entries.lock().expect("lock");
        entries.get_mut("a").expect("entry").1 -= VerifiedTokens::TTL;
        drop(entries);
        assert_eq!(cache.get("a"), None, "a verification older than the TTL is not trusted");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = VerifiedTokens::new(0);
        for i in 0..=VerifiedTokens::CAPACITY {
            cache.put(&i.to_string(), &claims(60));
        }
        assert!(cache.entries.lock().expect("lock").len() <= VerifiedTokens::CAPACITY);
    }
}
