//! The WebSocket chat (`/ws/{client_id}`) and its page (`/chat`). apistos cannot describe a
//! WebSocket, so these routes are registered with plain actix and documented in `docs/chat.md`.
//! The chat itself (fan-out, replacement, leave notices) is the `ChatService` use case; this
//! module only runs sockets.

mod page;
mod socket;

use std::time::Duration;

use actix_web::web;

/// Tuning for the chat; see `docs/chat.md`.
#[derive(Debug, Clone)]
pub struct ChatSettings {
    /// How often an idle connection is pinged.
    pub ping_interval: Duration,
    /// A connection silent this long (no frame, no pong) is dropped.
    pub client_timeout: Duration,
    /// Messages waiting for one client; past this the client is dropped (the `ChatService`'s).
    pub send_queue: usize,
    /// Messages one connection may send per minute (the `ChatService`'s).
    pub messages_per_minute: u32,
    /// How often a connection checks that its session is still live, in case the event that
    /// ends it was lost (the event itself closes it at once).
    pub session_check_interval: Duration,
}

impl Default for ChatSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(20),
            client_timeout: Duration::from_secs(60),
            send_queue: 256,
            messages_per_minute: hexgate_ports::DEFAULT_MESSAGES_PER_MINUTE,
            session_check_interval: Duration::from_secs(60),
        }
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/{client_id}", web::get().to(socket::chat_socket))
        .route("/chat", web::get().to(page::chat_page))
        .route("/chat/chat.js", web::get().to(page::chat_script));
}
