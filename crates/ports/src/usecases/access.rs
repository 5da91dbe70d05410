//! "Some of a user's sessions ended": an event every instance hears, over the [`PubSub`] port's
//! `access-ended` topic, so whatever holds a live connection on such a session (the chat's
//! WebSockets) ends it wherever it is.
//!
//! The use cases that end sessions (logout, revoking a session, a replayed refresh token, a
//! password change or reset, deactivating or deleting a user) publish one event after their
//! change is stored; [`crate::ChatService`] subscribes. Requests need no event: each one is
//! checked against the store and the revocation list anyway.

use std::sync::Arc;

use hexgate_domain::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};
use uuid::Uuid;

use crate::PubSub;

/// The topic the events travel on.
pub const ACCESS_ENDED_TOPIC: &str = "access-ended";

/// Which of a user's sessions ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessEnded {
    /// These sessions (logout, a revoked session, a replayed refresh token).
    Sessions { user: UserId, sessions: Vec<SessionId> },
    /// Every session of the user but `except`: a password change keeps the caller's own; a
    /// reset, a deactivation or a deletion ends them all.
    AllSessions { user: UserId, except: Option<SessionId> },
}

impl AccessEnded {
    /// Does this end `session` of `user`?
    #[must_use]
    pub fn ends(&self, user: UserId, session: SessionId) -> bool {
        match self {
            Self::Sessions { user: who, sessions } => *who == user && sessions.contains(&session),
            Self::AllSessions { user: who, except } => *who == user && *except != Some(session),
        }
    }
}

/// The wire form between instances.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Wire {
    Sessions { user: Uuid, sessions: Vec<Uuid> },
    AllSessions { user: Uuid, except: Option<Uuid> },
}

impl From<&AccessEnded> for Wire {
    fn from(ended: &AccessEnded) -> Self {
        match ended {
            AccessEnded::Sessions { user, sessions } => {
                Self::Sessions { user: user.as_uuid(), sessions: sessions.iter().map(|s| s.as_uuid()).collect() }
            }
            AccessEnded::AllSessions { user, except } => {
                Self::AllSessions { user: user.as_uuid(), except: except.map(SessionId::as_uuid) }
            }
        }
    }
}

impl From<Wire> for AccessEnded {
    fn from(wire: Wire) -> Self {
        match wire {
            Wire::Sessions { user, sessions } => Self::Sessions {
                user: UserId::from_uuid(user),
                sessions: sessions.into_iter().map(SessionId::from_uuid).collect(),
            },
            Wire::AllSessions { user, except } => {
                Self::AllSessions { user: UserId::from_uuid(user), except: except.map(SessionId::from_uuid) }
            }
        }
    }
}

impl AccessEnded {
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        // A plain struct of UUIDs always encodes.
        serde_json::to_vec(&Wire::from(self)).unwrap_or_default()
    }

    /// `None` for a payload that is not an event (logged and skipped by subscribers).
    #[must_use]
    pub fn decode(payload: &[u8]) -> Option<Self> {
        match serde_json::from_slice::<Wire>(payload) {
            Ok(wire) => Some(wire.into()),
            Err(err) => {
                warn!(error = %err, "access-ended event not understood; skipped");
                None
            }
        }
    }
}

/// Publishes [`AccessEnded`] events; the use cases that end sessions hold one.
pub struct AccessEvents {
    pubsub: Arc<dyn PubSub>,
}

impl AccessEvents {
    #[must_use]
    pub fn new(pubsub: Arc<dyn PubSub>) -> Self {
        Self { pubsub }
    }

    /// Tells every instance. Never fails its caller: the sessions have ended already (requests are
    /// refused from now on); a broker that cannot be reached is logged, and open connections then
    /// end at their next session check instead (see `docs/chat.md`).
    pub async fn publish(&self, ended: &AccessEnded) {
        debug!(?ended, "access ended");
        if let Err(err) = self.pubsub.publish(ACCESS_ENDED_TOPIC, &ended.encode()).await {
            warn!(error = %err, ?ended, "access-ended event not published; open connections end at their next check");
        }
    }
}

/// Publishes `ended` when the service was given an [`AccessEvents`].
pub(crate) async fn announce(events: Option<&Arc<AccessEvents>>, ended: AccessEnded) {
    if let Some(events) = events {
        events.publish(&ended).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_name_the_sessions_they_end_and_survive_the_wire() {
        let (user, other) = (UserId::new(), UserId::new());
        let (a, b) = (SessionId::new(), SessionId::new());
        let one = AccessEnded::Sessions { user, sessions: vec![a] };
        assert!(one.ends(user, a));
        assert!(!one.ends(user, b));
        assert!(!one.ends(other, a));
        let all_but = AccessEnded::AllSessions { user, except: Some(a) };
        assert!(!all_but.ends(user, a));
        assert!(all_but.ends(user, b));
        assert!(!all_but.ends(other, b));
        let all = AccessEnded::AllSessions { user, except: None };
        assert!(all.ends(user, a) && all.ends(user, b));
        for event in [one, all_but, all] {
            assert_eq!(AccessEnded::decode(&event.encode()), Some(event));
        }
        assert_eq!(AccessEnded::decode(b"{\"kind\":\"nonsense\"}"), None);
    }
}
