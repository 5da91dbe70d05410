//! The chat use case over the in-process pub/sub: two `ChatService`s on one broker stand for two
//! instances. No sockets: what a connection would write is what its inbox yields.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hexgate_domain::chat::{ChatClientId, RATE_LIMITED};
use hexgate_domain::{SessionId, UserId};
use hexgate_memory_adapter::InMemoryPubSub;
use hexgate_ports::{AccessEnded, AccessEvents, ChatInbox, ChatKick, ChatOwner, ChatService, PubSub};

async fn instance(broker: &Arc<InMemoryPubSub>, send_queue: usize) -> Arc<ChatService> {
    limited_instance(broker, send_queue, hexgate_ports::DEFAULT_MESSAGES_PER_MINUTE).await
}

async fn limited_instance(broker: &Arc<InMemoryPubSub>, send_queue: usize, per_minute: u32) -> Arc<ChatService> {
    let pubsub: Arc<dyn PubSub> = broker.clone();
    let chat = Arc::new(ChatService::new(pubsub, send_queue).with_message_limit(per_minute));
    tokio::spawn(chat.relay(tokio::time::sleep).await);
    chat
}

/// A connection of a fresh user's fresh session.
fn anyone() -> ChatOwner {
    ChatOwner { user: UserId::new(), session: SessionId::new() }
}

fn id(name: &str) -> ChatClientId {
    ChatClientId::parse(name).expect("client id")
}

async fn next_text(inbox: &mut ChatInbox) -> String {
    tokio::time::timeout(Duration::from_secs(2), inbox.texts.next()).await.expect("a text in time").expect("open")
}

async fn nothing_more(inbox: &mut ChatInbox) {
    let more = tokio::time::timeout(Duration::from_millis(100), inbox.texts.next()).await;
    assert!(more.is_err(), "unexpected text: {more:?}");
}

#[tokio::test]
async fn a_message_is_echoed_to_its_sender_then_reaches_every_instance_and_a_leave_is_announced() {
    let broker = Arc::new(InMemoryPubSub::new());
    let (a, b) = (instance(&broker, 16).await, instance(&broker, 16).await);
    let (alice, mut alice_inbox) = a.join(&id("alice"), anyone()).await;
    let (_bob, mut bob_inbox) = b.join(&id("bob"), anyone()).await;
    a.say(&alice, "hi").await.expect("said");
    assert_eq!(next_text(&mut alice_inbox).await, "You wrote: hi");
    assert_eq!(next_text(&mut alice_inbox).await, "Client alice: hi");
    assert_eq!(next_text(&mut bob_inbox).await, "Client alice: hi");
    a.leave(alice).await;
    assert_eq!(next_text(&mut bob_inbox).await, "Client alice left the chat");
}

#[tokio::test]
async fn a_newer_connection_on_another_instance_replaces_the_older_without_a_leave_notice() {
    let broker = Arc::new(InMemoryPubSub::new());
    let (a, b) = (instance(&broker, 16).await, instance(&broker, 16).await);
    let (_bob, mut bob_inbox) = b.join(&id("bob"), anyone()).await;
    let (old, old_inbox) = a.join(&id("alice"), anyone()).await;
    let (new, mut new_inbox) = b.join(&id("alice"), anyone()).await;
    let kicked = tokio::time::timeout(Duration::from_secs(2), old_inbox.kicked).await.expect("kicked in time");
    assert_eq!(kicked, Ok(ChatKick::Replaced));
    a.leave(old).await;
    b.say(&new, "still here").await.expect("said");
    assert_eq!(next_text(&mut new_inbox).await, "You wrote: still here");
    assert_eq!(next_text(&mut bob_inbox).await, "Client alice: still here");
    nothing_more(&mut bob_inbox).await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_kicked_and_the_others_keep_chatting() {
    let broker = Arc::new(InMemoryPubSub::new());
    let chat = instance(&broker, 4).await;
    let (_idle, idle_inbox) = chat.join(&id("idle"), anyone()).await;
    let (talker, mut talker_inbox) = chat.join(&id("talker"), anyone()).await;
    // The idle client's queue holds four texts; the fifth finds it full.
    for n in 0..5 {
        chat.say(&talker, &format!("m{n}")).await.expect("said");
        assert_eq!(next_text(&mut talker_inbox).await, format!("You wrote: m{n}"));
        assert_eq!(next_text(&mut talker_inbox).await, format!("Client talker: m{n}"));
    }
    let kicked = tokio::time::timeout(Duration::from_secs(2), idle_inbox.kicked).await.expect("kicked in time");
    assert_eq!(kicked, Ok(ChatKick::TooSlow));
}

#[tokio::test]
async fn shutting_down_kicks_every_local_connection() {
    let broker = Arc::new(InMemoryPubSub::new());
    let chat = instance(&broker, 16).await;
    let (_c, inbox) = chat.join(&id("carol"), anyone()).await;
    chat.close_all();
    assert_eq!(inbox.kicked.await, Ok(ChatKick::ShuttingDown));
}

async fn kicked(inbox: &mut ChatInbox) -> ChatKick {
    tokio::time::timeout(Duration::from_secs(2), &mut inbox.kicked).await.expect("kicked in time").expect("a reason")
}

fn not_kicked(inbox: &mut ChatInbox) {
    assert_eq!(inbox.kicked.try_recv(), Ok(None), "this connection was kicked");
}

#[tokio::test]
async fn an_ended_session_kicks_its_connections_on_every_instance_and_no_others() {
    let broker = Arc::new(InMemoryPubSub::new());
    let (a, b) = (instance(&broker, 16).await, instance(&broker, 16).await);
    let events = AccessEvents::new(broker.clone());
    let alice = UserId::new();
    let session = |session| ChatOwner { user: alice, session };
    let (s1, s2, s3, s4) = (SessionId::new(), SessionId::new(), SessionId::new(), SessionId::new());
    let (_m1, mut s1_on_a) = a.join(&id("alice-1"), session(s1)).await;
    let (_m2, mut s1_on_b) = b.join(&id("alice-2"), session(s1)).await;
    let (_m3, mut s2_on_a) = a.join(&id("alice-3"), session(s2)).await;
    let (_m4, mut s3_on_b) = b.join(&id("alice-4"), session(s3)).await;
    let (_m5, mut s4_on_a) = a.join(&id("alice-5"), session(s4)).await;
    // Bob's session id is alice's first one: only the pair (user, session) counts.
    let (_bob, mut bob) = b.join(&id("bob"), ChatOwner { user: UserId::new(), session: s1 }).await;

    // A logout: that session's connections, on both instances.
    events.publish(&AccessEnded::Sessions { user: alice, sessions: vec![s1] }).await;
    assert_eq!(kicked(&mut s1_on_a).await, ChatKick::AccessEnded);
    assert_eq!(kicked(&mut s1_on_b).await, ChatKick::AccessEnded);
    // Each instance handles an event in one go: both have, so nothing else was kicked.
    not_kicked(&mut s2_on_a);
    not_kicked(&mut s3_on_b);
    not_kicked(&mut s4_on_a);
    not_kicked(&mut bob);

    // A password change made from s2: every other session.
    events.publish(&AccessEnded::AllSessions { user: alice, except: Some(s2) }).await;
    assert_eq!(kicked(&mut s3_on_b).await, ChatKick::AccessEnded);
    assert_eq!(kicked(&mut s4_on_a).await, ChatKick::AccessEnded);
    not_kicked(&mut s2_on_a);
    not_kicked(&mut bob);

    // A reset, a deactivation or a deletion: all of them.
    events.publish(&AccessEnded::AllSessions { user: alice, except: None }).await;
    assert_eq!(kicked(&mut s2_on_a).await, ChatKick::AccessEnded);
}

#[tokio::test]
async fn past_its_messages_per_minute_a_connection_is_told_and_nobody_hears_it() {
    let broker = Arc::new(InMemoryPubSub::new());
    let (a, b) = (limited_instance(&broker, 16, 2).await, limited_instance(&broker, 16, 2).await);
    let (talker, mut talker_inbox) = a.join(&id("talker"), anyone()).await;
    let (listener, mut listener_inbox) = b.join(&id("listener"), anyone()).await;
    for n in 0..2 {
        a.say(&talker, &format!("m{n}")).await.expect("said");
        assert_eq!(next_text(&mut talker_inbox).await, format!("You wrote: m{n}"));
        assert_eq!(next_text(&mut talker_inbox).await, format!("Client talker: m{n}"));
        assert_eq!(next_text(&mut listener_inbox).await, format!("Client talker: m{n}"));
    }
    for n in 2..5 {
        a.say(&talker, &format!("m{n}")).await.expect("refused, not kicked");
        assert_eq!(next_text(&mut talker_inbox).await, RATE_LIMITED);
    }
    nothing_more(&mut talker_inbox).await;
    nothing_more(&mut listener_inbox).await;
    // The limit is the connection's own: the listener still has its two.
    b.say(&listener, "mine").await.expect("said");
    assert_eq!(next_text(&mut listener_inbox).await, "You wrote: mine");
    assert_eq!(next_text(&mut talker_inbox).await, "Client listener: mine");
}
