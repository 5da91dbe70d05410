//! One WebSocket connection: the upgrade (token, client id), then three loops in one task —
//! frames in, the queue out, the heartbeat — until one of them, or the hub, ends it.

use std::cell::Cell;
use std::time::{Duration, Instant};

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use hexgate_domain::RuleViolation;
use hexgate_domain::chat::{self, ChatClientId, MAX_FRAME_BYTES};
use tokio::sync::mpsc;
use tracing::debug;

use super::hub::{ChatHub, Kick, Membership, Outbound};
use crate::dto::FieldError;
use crate::extract::bearer;
use crate::{ApiError, HttpState};

/// Why a connection ended, and what the client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The client closed, or the connection dropped.
    Gone,
    Kicked(Kick),
    TooBig,
    Unsupported,
    Broken,
    Silent,
}

impl Ending {
    fn close_reason(self) -> Option<CloseReason> {
        let (code, text) = match self {
            Self::Gone => (CloseCode::Normal, "bye"),
            Self::Kicked(Kick::Replaced) => (CloseCode::Other(4001), "replaced by a newer connection"),
            Self::Kicked(Kick::TooSlow) => (CloseCode::Policy, "not reading messages"),
            Self::Kicked(Kick::ShuttingDown) => (CloseCode::Away, "server shutting down"),
            Self::TooBig => (CloseCode::Size, "frame larger than 64 KiB"),
            Self::Unsupported => (CloseCode::Unsupported, "only text frames are accepted"),
            Self::Broken => (CloseCode::Protocol, "protocol error"),
            Self::Silent => (CloseCode::Away, "no answer to ping"),
        };
        Some(CloseReason { code, description: Some(text.to_owned()) })
    }
}

/// The token: `?token=` (browsers cannot set headers on a WebSocket), else the bearer header.
fn token_of(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let from_query = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty());
    match from_query {
        Some(token) => Ok(Some(token)),
        None => bearer(req),
    }
}

/// `GET /ws/{client_id}?token=…`: the chat (see `docs/chat.md`).
pub(crate) async fn chat_socket(
    req: HttpRequest,
    client_id: Path<String>,
    body: Payload,
    state: Data<HttpState>,
) -> Result<HttpResponse, ApiError> {
    let who = ChatClientId::parse(&client_id).map_err(|e| {
        ApiError::validation(vec![FieldError {
            field: Some("path.client_id".to_owned()),
            message: e.to_string(),
            code: e.code().to_owned(),
        }])
    })?;
    let token = token_of(&req)?.ok_or_else(|| ApiError::unauthorized("Not authenticated"))?;
    let principal = state.auth.authenticate_active(&token).await?;
    let (response, session, frames) = actix_ws::handle(&req, body).map_err(|e| {
        let status = e.as_response_error().status_code();
        ApiError { detail: format!("WebSocket upgrade refused: {e}"), ..ApiError::from_status(status) }
    })?;
    let frames =
        frames.max_frame_size(MAX_FRAME_BYTES).aggregate_continuations().max_continuation_size(MAX_FRAME_BYTES);
    let hub = state.chat.clone();
    debug!(client = %who, user = %principal.user.id, "chat connection accepted");
    // Joined before the client sees the upgrade, so it hears everything said after it.
    let membership = hub.join(&who).await;
    // The message stream is tied to this worker's thread, so the connection runs here too.
    actix_web::rt::spawn(run(hub, who, membership, session, frames));
    Ok(response)
}

async fn run(
    hub: ChatHub,
    who: ChatClientId,
    membership: Membership,
    session: Session,
    frames: AggregatedMessageStream,
) {
    let settings = hub.settings().clone();
    let last_seen = Cell::new(Instant::now());
    let mut kicked = membership.kicked;
    let ending = tokio::select! {
        kick = &mut kicked => kick.map_or(Ending::Gone, Ending::Kicked),
        ending = read(&hub, &who, frames, &membership.queue, &last_seen) => ending,
        ending = write(session.clone(), membership.outbox) => ending,
        ending = heartbeat(settings.ping_interval, settings.client_timeout, &membership.queue, &last_seen) => ending,
    };
    debug!(client = %who, ?ending, "chat connection ending");
    // The others hear of it at once, before the close below (which may have to wait).
    hub.leave(&who, membership.conn).await;
    // A client that does not read may never take the close frame: do not wait on it for long.
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close(ending.close_reason())).await;
}

async fn read(
    hub: &ChatHub,
    who: &ChatClientId,
    mut frames: AggregatedMessageStream,
    own: &mpsc::Sender<Outbound>,
    last_seen: &Cell<Instant>,
) -> Ending {
    while let Some(frame) = frames.recv().await {
        last_seen.set(Instant::now());
        match frame {
            Ok(AggregatedMessage::Text(text)) => {
                if own.try_send(Outbound::Text(chat::echo(&text))).is_err() {
                    return Ending::Kicked(Kick::TooSlow);
                }
                hub.say(who, &text).await;
            }
            Ok(AggregatedMessage::Ping(payload)) => {
                let _ = own.try_send(Outbound::Pong(payload.to_vec()));
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Binary(_)) => return Ending::Unsupported,
            Ok(AggregatedMessage::Close(_)) => return Ending::Gone,
            Err(ProtocolError::Overflow) => return Ending::TooBig,
            Err(err) => {
                debug!(client = %who, error = %err, "chat protocol error");
                return Ending::Broken;
            }
        }
    }
    Ending::Gone
}

async fn write(mut session: Session, mut outbox: mpsc::Receiver<Outbound>) -> Ending {
    while let Some(message) = outbox.recv().await {
        let sent = match message {
            Outbound::Text(text) => session.text(text).await,
            Outbound::Ping => session.ping(b"").await,
            Outbound::Pong(payload) => session.pong(&payload).await,
        };
        if sent.is_err() {
            return Ending::Gone;
        }
    }
    Ending::Gone
}

async fn heartbeat(
    every: Duration,
    timeout: Duration,
    own: &mpsc::Sender<Outbound>,
    last_seen: &Cell<Instant>,
) -> Ending {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if last_seen.get().elapsed() > timeout {
            return Ending::Silent;
        }
        // A full queue means the writer is stuck; the hub drops such a client on its own.
        let _ = own.try_send(Outbound::Ping);
    }
}
