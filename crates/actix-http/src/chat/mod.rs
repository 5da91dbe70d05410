//! The WebSocket chat (`/ws/{client_id}`) and its page (`/chat`). apistos cannot describe a
//! WebSocket, so these routes are registered with plain actix and documented in `docs/chat.md`.

mod hub;
mod page;
mod socket;

use actix_web::web;

pub use hub::{ChatHub, ChatSettings};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws/{client_id}", web::get().to(socket::chat_socket))
        .route("/chat", web::get().to(page::chat_page))
        .route("/chat/chat.js", web::get().to(page::chat_script));
}
