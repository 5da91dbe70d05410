//! The chat: who is connected to this instance, and the fan-out of chat events through the
//! [`PubSub`] port.
//!
//! Every event (a message, a join, a leave) is published; every instance (this one included)
//! receives it from its one subscription and hands it to its own clients. Hand-over never waits:
//! each client has a bounded queue, and a client whose queue is full is dropped, so one client
//! that stops reading never slows the others. The transport (a WebSocket in `actix-http`) only
//! runs connections: it joins, says what its client sent, writes the client's inbox and leaves.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use hexgate_domain::chat::{self, ChatClientId};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::PubSub;

const TOPIC: &str = "chat";
/// How long a broker that cannot be reached is left before subscribing again.
const RESUBSCRIBE_AFTER: Duration = Duration::from_secs(1);

/// Why the chat ends a connection from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKick {
    /// A newer connection took the client id (here or on another instance).
    Replaced,
    /// Its queue was full: it is not reading.
    TooSlow,
    /// This instance is shutting down: reconnect elsewhere.
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
    queue: mpsc::Sender<String>,
    kick: Option<oneshot::Sender<ChatKick>>,
}

impl Member {
    fn kick(&mut self, why: ChatKick) {
        if let Some(kick) = self.kick.take() {
            let _ = kick.send(why);
        }
    }
}

/// One connection's place in the chat: what [`ChatService::say`] and [`ChatService::leave`] take.
#[derive(Debug)]
pub struct ChatMember {
    who: ChatClientId,
    conn: Uuid,
}

impl ChatMember {
    #[must_use]
    pub fn who(&self) -> &ChatClientId {
        &self.who
    }
}

/// What a connection hands its client: the texts to write, in order, and the one reason the chat
/// may end it from outside. The chat kicks a connection before letting go of it, so `texts`
/// ending says only that `kicked` has resolved (cancelled: let go without a reason); read the
/// reason there.
pub struct ChatInbox {
    pub texts: mpsc::Receiver<String>,
    pub kicked: oneshot::Receiver<ChatKick>,
}

/// The chat of this instance; every connection shares one (`Arc`).
pub struct ChatService {
    pubsub: Arc<dyn PubSub>,
    members: Mutex<HashMap<ChatClientId, Member>>,
    send_queue: usize,
}

impl ChatService {
    /// `send_queue`: the texts that may wait for one client; past this the client is dropped.
    #[must_use]
    pub fn new(pubsub: Arc<dyn PubSub>, send_queue: usize) -> Self {
        Self { pubsub, members: Mutex::default(), send_queue: send_queue.max(1) }
    }

    /// Subscribes to the chat topic now, and returns the relay that hands its events to this
    /// instance's clients, for the caller to spawn on its runtime. A broker that cannot be reached
    /// is retried every second (`sleep` is the runtime's timer); start-up does not wait for it.
    /// The relay ends once the service is dropped.
    pub async fn relay<S, F>(self: &Arc<Self>, sleep: S) -> impl Future<Output = ()> + Send + 'static
    where
        S: Fn(Duration) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let first = self.pubsub.subscribe(TOPIC).await;
        let weak: Weak<Self> = Arc::downgrade(self);
        async move {
            let mut next = Some(first);
            loop {
                let attempt = match next.take() {
                    Some(attempt) => attempt,
                    None => {
                        sleep(RESUBSCRIBE_AFTER).await;
                        let Some(chat) = weak.upgrade() else { return };
                        chat.pubsub.subscribe(TOPIC).await
                    }
                };
                match attempt {
                    Ok(mut events) => {
                        while let Some(payload) = events.next().await {
                            let Some(chat) = weak.upgrade() else { return };
                            chat.dispatch(&payload);
                        }
                        warn!("chat subscription ended; resubscribing");
                    }
                    Err(err) => warn!(error = %err, "chat subscription unavailable; retrying"),
                }
                if weak.strong_count() == 0 {
                    return;
                }
            }
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<ChatClientId, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection as `who`, replacing (and kicking) any other connection with that id
    /// here, and on every other instance once they hear of it.
    pub async fn join(&self, who: &ChatClientId) -> (ChatMember, ChatInbox) {
        let conn = Uuid::now_v7();
        // futures' channel holds its buffer plus one message per sender; the hub is the one sender.
        let (queue, texts) = mpsc::channel(self.send_queue - 1);
        let (kick, kicked) = oneshot::channel();
        let previous = self.members().insert(who.clone(), Member { conn, queue, kick: Some(kick) });
        if let Some(mut previous) = previous {
            previous.kick(ChatKick::Replaced);
        }
        info!(client = %who, %conn, "chat client joined");
        self.publish(&Event::Joined { who: who.to_string(), conn }).await;
        (ChatMember { who: who.clone(), conn }, ChatInbox { texts, kicked })
    }

    /// `text` from `member`: echoed to the sender alone, then sent to everyone (the sender too).
    ///
    /// # Errors
    /// `TooSlow` when the sender's own queue is full: it is not reading, and its connection ends.
    pub async fn say(&self, member: &ChatMember, text: &str) -> Result<(), ChatKick> {
        let echoed = match self.members().get_mut(&member.who) {
            Some(own) if own.conn == member.conn => own.queue.try_send(chat::echo(text)).is_ok(),
            // Replaced or dropped meanwhile: its kick is on its way.
            _ => true,
        };
        if !echoed {
            return Err(ChatKick::TooSlow);
        }
        self.publish(&Event::Said { from: member.who.to_string(), text: text.to_owned() }).await;
        Ok(())
    }

    /// A connection ended. Unless it was replaced, the others are told it left.
    pub async fn leave(&self, member: ChatMember) {
        let ChatMember { who, conn } = member;
        let removed = {
            let mut members = self.members();
            if members.get(&who).is_some_and(|m| m.conn == conn) { members.remove(&who).is_some() } else { false }
        };
        if removed {
            info!(client = %who, %conn, "chat client left");
            self.publish(&Event::Left { who: who.to_string() }).await;
        }
    }

    /// Kicks every connection of this instance (`ShuttingDown`), so a graceful shutdown does not
    /// wait on open chats and clients know to reconnect.
    pub fn close_all(&self) {
        let mut members = self.members();
        info!(clients = members.len(), "closing chat connections for shutdown");
        for member in members.values_mut() {
            member.kick(ChatKick::ShuttingDown);
        }
    }

    async fn publish(&self, event: &Event) {
        let payload = match serde_json::to_vec(event) {
            Ok(payload) => payload,
            Err(err) => return warn!(error = %err, "chat event not encodable"),
        };
        if let Err(err) = self.pubsub.publish(TOPIC, &payload).await {
            // The broker is down: this instance's clients still hear each other.
            warn!(error = %err, "chat broadcast unavailable; delivering on this instance only");
            self.dispatch(&payload);
        }
    }

    /// Hands one event to every local client it concerns.
    fn dispatch(&self, payload: &[u8]) {
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
                    member.kick(ChatKick::Replaced);
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
            match member.queue.try_send(text.to_owned()) {
                Ok(()) => {}
                Err(err) if err.is_full() => {
                    if member.kick.is_some() {
                        warn!(client = %id, "chat client is not reading its messages; dropping it");
                    }
                    member.kick(ChatKick::TooSlow);
                }
                // Its connection is ending; `leave` will remove it.
                Err(_) => {}
            }
        }
    }
}
