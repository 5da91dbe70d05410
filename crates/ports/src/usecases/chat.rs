//! The chat: who is connected to this instance, and the fan-out of chat events through the
//! [`PubSub`] port.
//!
//! Every event (a message, a join, a leave) is published; every instance (this one included)
//! receives it from its one subscription and hands it to its own clients. Hand-over never waits:
//! each client has a bounded queue, and a client whose queue is full is dropped, so one client
//! that stops reading never slows the others. The transport (a WebSocket in `actix-http`) only
//! runs connections: it joins, says what its client sent, writes the client's inbox and leaves.
//!
//! Each connection belongs to a user's session: when the session ends (an [`AccessEnded`] event,
//! heard from any instance) the connection is kicked (`AccessEnded`). Each connection may send
//! `messages_per_minute` messages; past that its messages are answered with
//! [`chat::RATE_LIMITED`] and go nowhere until its window ends.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures_channel::{mpsc, oneshot};
use futures_util::StreamExt;
use hexgate_domain::chat::{self, ChatClientId, MessageWindow};
use hexgate_domain::{SessionId, UserId};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, warn};
use uuid::Uuid;

use super::access::{ACCESS_ENDED_TOPIC, AccessEnded};
use crate::{PortError, PubSub, Subscription};

const TOPIC: &str = "chat";
/// The messages a connection may send per minute unless told otherwise (`CHAT_MESSAGES_PER_MINUTE`).
pub const DEFAULT_MESSAGES_PER_MINUTE: u32 = 120;
const MESSAGE_WINDOW: Duration = Duration::from_secs(60);
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
    /// Its session ended (logout, revocation, password change or reset) or its user was
    /// deactivated or deleted.
    AccessEnded,
}

/// Whose connection it is: the user and the session its token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatOwner {
    pub user: UserId,
    pub session: SessionId,
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
    owner: ChatOwner,
    queue: mpsc::Sender<String>,
    kick: Option<oneshot::Sender<ChatKick>>,
    /// Its messages this minute (per connection, in this process).
    window: MessageWindow,
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
    messages_per_minute: u32,
}

impl ChatService {
    /// `send_queue`: the texts that may wait for one client; past this the client is dropped.
    #[must_use]
    pub fn new(pubsub: Arc<dyn PubSub>, send_queue: usize) -> Self {
        Self {
            pubsub,
            members: Mutex::default(),
            send_queue: send_queue.max(1),
            messages_per_minute: DEFAULT_MESSAGES_PER_MINUTE,
        }
    }

    /// How many messages one connection may send per minute (default 120).
    #[must_use]
    pub fn with_message_limit(mut self, messages_per_minute: u32) -> Self {
        self.messages_per_minute = messages_per_minute;
        self
    }

    /// Subscribes to the chat topic and to the access-ended topic now, and returns the relay that
    /// hands their events to this instance's clients, for the caller to spawn on its runtime. A
    /// broker that cannot be reached is retried every second (`sleep` is the runtime's timer);
    /// start-up does not wait for it. The relay ends once the service is dropped.
    pub async fn relay<S, F>(self: &Arc<Self>, sleep: S) -> impl Future<Output = ()> + Send + 'static
    where
        S: Fn(Duration) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send,
    {
        let chat = self.pubsub.subscribe(TOPIC).await;
        let access = self.pubsub.subscribe(ACCESS_ENDED_TOPIC).await;
        let weak: Weak<Self> = Arc::downgrade(self);
        async move {
            futures_util::future::join(
                Self::follow(weak.clone(), TOPIC, chat, &sleep, Self::dispatch),
                Self::follow(weak, ACCESS_ENDED_TOPIC, access, &sleep, Self::dispatch_access_ended),
            )
            .await;
        }
    }

    /// Hands each message of `topic` to `handle`, subscribing again when the subscription fails.
    async fn follow<S, F>(
        weak: Weak<Self>,
        topic: &'static str,
        first: Result<Subscription, PortError>,
        sleep: &S,
        handle: fn(&Self, &[u8]),
    ) where
        S: Fn(Duration) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send,
    {
        let mut next = Some(first);
        loop {
            let attempt = match next.take() {
                Some(attempt) => attempt,
                None => {
                    sleep(RESUBSCRIBE_AFTER).await;
                    let Some(chat) = weak.upgrade() else { return };
                    chat.pubsub.subscribe(topic).await
                }
            };
            match attempt {
                Ok(mut events) => {
                    while let Some(payload) = events.next().await {
                        let Some(chat) = weak.upgrade() else { return };
                        handle(&chat, &payload);
                    }
                    warn!(topic, "chat subscription ended; resubscribing");
                }
                Err(err) => warn!(topic, error = %err, "chat subscription unavailable; retrying"),
            }
            if weak.strong_count() == 0 {
                return;
            }
        }
    }

    fn members(&self) -> MutexGuard<'_, HashMap<ChatClientId, Member>> {
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection as `who`, owned by `owner`'s session, replacing (and kicking) any
    /// other connection with that id here, and on every other instance once they hear of it.
    ///
    /// A session may end between the caller's check of it and this join, its event finding no
    /// connection to end: check the session again after joining (`AuthService::still_allowed`).
    pub async fn join(&self, who: &ChatClientId, owner: ChatOwner) -> (ChatMember, ChatInbox) {
        let conn = Uuid::now_v7();
        // futures' channel holds its buffer plus one message per sender; the hub is the one sender.
        let (queue, texts) = mpsc::channel(self.send_queue - 1);
        let (kick, kicked) = oneshot::channel();
        let window = MessageWindow::new(self.messages_per_minute, MESSAGE_WINDOW);
        let member = Member { conn, owner, queue, kick: Some(kick), window };
        let previous = self.members().insert(who.clone(), member);
        if let Some(mut previous) = previous {
            previous.kick(ChatKick::Replaced);
        }
        info!(client = %who, %conn, "chat client joined");
        self.publish(&Event::Joined { who: who.to_string(), conn }).await;
        (ChatMember { who: who.clone(), conn }, ChatInbox { texts, kicked })
    }

    /// `text` from `member`: echoed to the sender alone, then sent to everyone (the sender too).
    /// Past the connection's messages per minute, the sender alone gets [`chat::RATE_LIMITED`]
    /// instead and the text goes nowhere.
    ///
    /// # Errors
    /// `TooSlow` when the sender's own queue is full: it is not reading, and its connection ends.
    pub async fn say(&self, member: &ChatMember, text: &str) -> Result<(), ChatKick> {
        let (answered, admitted) = match self.members().get_mut(&member.who) {
            Some(own) if own.conn == member.conn => {
                let admitted = own.window.admit(Instant::now());
                let answer = if admitted { chat::echo(text) } else { chat::RATE_LIMITED.to_owned() };
                (own.queue.try_send(answer).is_ok(), admitted)
            }
            // Replaced or dropped meanwhile: its kick is on its way.
            _ => (true, true),
        };
        if !answered {
            return Err(ChatKick::TooSlow);
        }
        if !admitted {
            debug!(client = %member.who, "chat message over the per-minute limit; dropped");
            return Ok(());
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

    /// Kicks every local connection whose session the event ends.
    fn dispatch_access_ended(&self, payload: &[u8]) {
        let Some(ended) = AccessEnded::decode(payload) else { return };
        let mut members = self.members();
        for (id, member) in members.iter_mut() {
            if ended.ends(member.owner.user, member.owner.session) && member.kick.is_some() {
                info!(client = %id, user = %member.owner.user, "chat connection's access ended; closing it");
                member.kick(ChatKick::AccessEnded);
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
