//! Who is connected to this instance, and the fan-out of chat events through the pub/sub port.
//!
//! Every event (a message, a join, a leave) is published; every instance (this one included)
//! receives it from its one subscription and hands it to its own clients. Hand-over never waits:
//! each client has a bounded queue, and a client whose queue is full is dropped, so one client
//! that stops reading never slows the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use hexgate_domain::chat::{self, ChatClientId};
use hexgate_ports::PubSub;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};
use uuid::Uuid;

const TOPIC: &str = "chat";

/// Tuning for the chat; see `docs/chat.md`.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// How often an idle connection is pinged.
    pub ping_interval: Duration,
    /// A connection silent this long (no frame, no pong) is dropped.
    pub client_timeout: Duration,
    /// Messages waiting for one client; past this the client is dropped.
    pub send_queue: usize,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self { ping_interval: Duration::from_secs(20), client_timeout: Duration::from_secs(60), send_queue: 256 }
    }
}

/// What a connection is asked to write.
#[derive(Debug)]
pub(crate) enum Outbound {
    Text(String),
    Ping,
    Pong(Vec<u8>),
}

/// Why the hub ends a connection from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kick {
    /// A newer connection took the client id (close code 4001).
    Replaced,
    /// Its queue was full: it is not reading.
    TooSlow,
    /// This instance is shutting down (close code 1001: reconnect elsewhere).
    ShuttingDown,
}

/// The wire form of chat events between instances.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Event {
    Said { from: String, text: String },
    Joined { who: String, conn: Uuid },
    Left { who: String },
}

struct Member {
    conn: Uuid,
    queue: mpsc::Sender<Outbound>,
    kick: Option<oneshot::Sender<Kick>>,
}

struct HubInner {
    pubsub: Arc<dyn PubSub>,
    members: Mutex<HashMap<ChatClientId, Member>>,
    settings: ChatSettings,
}

/// A connection's place in the hub, as `join` hands it out.
pub(crate) struct Membership {
    pub conn: Uuid,
    pub queue: mpsc::Sender<Outbound>,
    pub outbox: mpsc::Receiver<Outbound>,
    pub kicked: oneshot::Receiver<Kick>,
}

/// The chat of this instance. Cheap to clone; every actix worker shares one.
#[derive(Clone)]
pub struct ChatHub {
    inner: Arc<HubInner>,
}

impl ChatHub {
    /// Subscribes to the chat topic and starts handing its events to local clients. A broker
    /// that cannot be reached now is retried in the background; start-up does not wait for it.
    pub async fn start(pubsub: Arc<dyn PubSub>, settings: ChatSettings) -> Self {
        let hub = Self { inner: Arc::new(HubInner { pubsub, members: Mutex::default(), settings }) };
        let first = hub.inner.pubsub.subscribe(TOPIC).await;
        let weak = Arc::downgrade(&hub.inner);
        tokio::spawn(async move {
            let mut next = Some(first);
            loop {
                let attempt = match next.take() {
                    Some(attempt) => attempt,
                    None => {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let Some(inner) = weak.upgrade() else { return };
                        inner.pubsub.subscribe(TOPIC).await
                    }
                };
                match attempt {
                    Ok(mut events) => {
                        while let Some(payload) = events.next().await {
                            let Some(inner) = weak.upgrade() else { return };
                            Self { inner }.dispatch(&payload).await;
                        }
                        warn!("chat subscription ended; resubscribing");
                    }
                    Err(err) => warn!(error = %err, "chat subscription unavailable; retrying"),
                }
                if weak.strong_count() == 0 {
                    return;
                }
            }
        });
        hub
    }

    pub(crate) fn settings(&self) -> &ChatSettings {
        &self.inner.settings
    }

    fn members(&self) -> std::sync::MutexGuard<'_, HashMap<ChatClientId, Member>> {
        self.inner.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection as `who`, replacing (and closing) any other connection with that id
    /// here, and on every other instance once they hear of it.
    pub(crate) async fn join(&self, who: &ChatClientId) -> Membership {
        let conn = Uuid::now_v7();
        let (queue, outbox) = mpsc::channel(self.inner.settings.send_queue.max(1));
        let (kick, kicked) = oneshot::channel();
        let previous = self.members().insert(who.clone(), Member { conn, queue: queue.clone(), kick: Some(kick) });
        if let Some(mut previous) = previous
            && let Some(kick) = previous.kick.take()
        {
            let _ = kick.send(Kick::Replaced);
        }
        info!(client = %who, %conn, "chat client joined");
        self.publish(&Event::Joined { who: who.to_string(), conn }).await;
        Membership { conn, queue, outbox, kicked }
    }

    /// A connection ended. Unless it was replaced, the others are told it left.
    pub(crate) async fn leave(&self, who: &ChatClientId, conn: Uuid) {
        let removed = {
            let mut members = self.members();
            if members.get(who).is_some_and(|m| m.conn == conn) { members.remove(who).is_some() } else { false }
        };
        if removed {
            info!(client = %who, %conn, "chat client left");
            self.publish(&Event::Left { who: who.to_string() }).await;
        }
    }

    /// Sends `text` from `from` to everyone.
    pub(crate) async fn say(&self, from: &ChatClientId, text: &str) {
        self.publish(&Event::Said { from: from.to_string(), text: text.to_owned() }).await;
    }

    async fn publish(&self, event: &Event) {
        let payload = match serde_json::to_vec(event) {
            Ok(payload) => payload,
            Err(err) => return warn!(error = %err, "chat event not encodable"),
        };
        if let Err(err) = self.inner.pubsub.publish(TOPIC, &payload).await {
            // The broker is down: this instance's clients still hear each other.
            warn!(error = %err, "chat broadcast unavailable; delivering on this instance only");
            self.dispatch(&payload).await;
        }
    }

    /// Hands one event to every local client it concerns.
    async fn dispatch(&self, payload: &[u8]) {
        let event: Event = match serde_json::from_slice(payload) {
            Ok(event) => event,
            Err(err) => return warn!(error = %err, "chat event not understood; skipped"),
        };
        match event {
            Event::Said { from, text } => match ChatClientId::parse(&from) {
                Ok(from) => self.deliver(&chat::said(&from, &text), None),
                Err(_) => debug!("chat event from an invalid client id; skipped"),
            },
            Event::Left { who } => match ChatClientId::parse(&who) {
                Ok(who) => self.deliver(&chat::left(&who), Some(&who)),
                Err(_) => debug!("chat event for an invalid client id; skipped"),
            },
            Event::Joined { who, conn } => {
                let Ok(who) = ChatClientId::parse(&who) else { return };
                let mut members = self.members();
                // The newest connection wins, wherever it is (ids are time-ordered).
                if let Some(member) = members.get_mut(&who)
                    && member.conn < conn
                {
                    if let Some(kick) = member.kick.take() {
                        let _ = kick.send(Kick::Replaced);
                    }
                    members.remove(&who);
                }
            }
        }
    }

    /// Queues `text` for every local client but `except`, never waiting for any of them.
    fn deliver(&self, text: &str, except: Option<&ChatClientId>) {
        let mut members = self.members();
        for (id, member) in members.iter_mut() {
            if except == Some(id) {
                continue;
            }
            match member.queue.try_send(Outbound::Text(text.to_owned())) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    if let Some(kick) = member.kick.take() {
                        warn!(client = %id, "chat client is not reading its messages; dropping it");
                        let _ = kick.send(Kick::TooSlow);
                    }
                }
                // Its connection is ending; `leave` will remove it.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }

    /// Closes every connection of this instance with 1001 (going away), so a graceful shutdown
    /// does not wait on open chats and clients know to reconnect.
    pub fn close_all(&self) {
        let mut members = self.members();
        info!(clients = members.len(), "closing chat connections for shutdown");
        for member in members.values_mut() {
            if let Some(kick) = member.kick.take() {
                let _ = kick.send(Kick::ShuttingDown);
            }
        }
    }
}
