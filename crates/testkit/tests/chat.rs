//! The chat use case over the in-process pub/sub: two `ChatService`s on one broker stand for two
//! instances. No sockets: what a connection would write is what its inbox yields.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use hexgate_domain::chat::ChatClientId;
use hexgate_memory_adapter::InMemoryPubSub;
use hexgate_ports::{ChatInbox, ChatKick, ChatService, PubSub};

async fn instance(broker: &Arc<InMemoryPubSub>, send_queue: usize) -> Arc<ChatService> {
    let pubsub: Arc<dyn PubSub> = broker.clone();
    let chat = Arc::new(ChatService::new(pubsub, send_queue));
    tokio::spawn(chat.relay(tokio::time::sleep).await);
    chat
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
    let (alice, mut alice_inbox) = a.join(&id("alice")).await;
    let (_bob, mut bob_inbox) = b.join(&id("bob")).await;
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
    let (_bob, mut bob_inbox) = b.join(&id("bob")).await;
    let (old, old_inbox) = a.join(&id("alice")).await;
    let (new, mut new_inbox) = b.join(&id("alice")).await;
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
    let (_idle, idle_inbox) = chat.join(&id("idle")).await;
    let (talker, mut talker_inbox) = chat.join(&id("talker")).await;
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
    let (_c, inbox) = chat.join(&id("carol")).await;
    chat.close_all();
    assert_eq!(inbox.kicked.await, Ok(ChatKick::ShuttingDown));
}
