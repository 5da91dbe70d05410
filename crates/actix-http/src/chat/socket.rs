//! One WebSocket connection: the upgrade (token, client id), then four loops in one task —
//! frames in, the inbox (and control frames) out, the heartbeat, the session check — until one of
//! them, or the chat, ends it. What is said, to whom, who is replaced and whose session ended is
//! the `ChatService`'s.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::web::{Data, Path, Payload};
use actix_web::{HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use futures_util::{Stream, StreamExt};
use hexgate_domain::RuleViolation;
use hexgate_domain::chat::{ChatClientId, MAX_FRAME_BYTES};
use hexgate_ports::{AccessClaims, AuthService, ChatInbox, ChatKick as Kick, ChatMember, ChatOwner, ChatService};
use tokio::sync::mpsc;
use tracing::debug;

use super::ChatSettings;
use crate::dto::FieldError;
use crate::extract::bearer;
use crate::{ApiError, HttpState};

/// Control frames a connection owes its client, beside the chat's texts.
#[derive(Debug)]
enum Control {
    Ping,
    Pong(Vec<u8>),
}

/// Control frames waiting to be written; past this a ping or pong is skipped (the writer is stuck).
const CONTROL_QUEUE: usize = 8;

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
            Self::Kicked(Kick::AccessEnded) => (CloseCode::Other(4401), "session ended"),
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
    let chat = state.chat.clone();
    debug!(client = %who, user = %principal.user.id, "chat connection accepted");
    // Joined before the client sees the upgrade, so it hears everything said after it.
    let owner = ChatOwner { user: principal.user.id, session: principal.claims.session_id };
    let (member, inbox) = chat.join(&who, owner).await;
    // A session ended between the check above and the join found no connection to close: from
    // now on its end reaches this one, so one more look closes the gap.
    match state.auth.still_allowed(&principal.claims).await {
        Ok(true) => {}
        Ok(false) => {
            chat.leave(member).await;
            return Err(ApiError::unauthorized("Not authenticated"));
        }
        Err(err) => {
            chat.leave(member).await;
            return Err(err.into());
        }
    }
    let watch = SessionWatch { auth: state.auth.clone(), claims: principal.claims };
    let open = OpenConnection::new(state.metrics.clone());
    // The message stream is tied to this worker's thread, so the connection runs here too.
    actix_web::rt::spawn(async move {
        run(chat, state.chat_settings.clone(), watch, member, inbox, session, frames).await;
        drop(open);
    });
    Ok(response)
}

/// Counts one open connection (`chat_connections`) for as long as it lives, however it ends.
struct OpenConnection(Arc<dyn hexgate_ports::Metrics>);

impl OpenConnection {
    fn new(metrics: Arc<dyn hexgate_ports::Metrics>) -> Self {
        metrics.chat_connections(1);
        Self(metrics)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.chat_connections(-1);
    }
}

/// What a connection needs to check, now and then, that its session still holds.
struct SessionWatch {
    auth: Arc<AuthService>,
    claims: AccessClaims,
}

async fn run(
    chat: Arc<ChatService>,
    settings: ChatSettings,
    watch: SessionWatch,
    member: ChatMember,
    inbox: ChatInbox,
    session: Session,
    frames: AggregatedMessageStream,
) {
    let last_seen = Cell::new(Instant::now());
    let ChatInbox { texts, mut kicked } = inbox;
    let (control, controls) = mpsc::channel(CONTROL_QUEUE);
    let ending = tokio::select! {
        kick = &mut kicked => kick.map_or(Ending::Gone, Ending::Kicked),
        ending = read(&chat, &member, frames, &control, &last_seen) => ending,
        ending = write(session.clone(), texts, controls) => ending,
        ending = heartbeat(settings.ping_interval, settings.client_timeout, &control, &last_seen) => ending,
        ending = session_check(settings.session_check_interval, &watch) => ending,
    };
    debug!(client = %member.who(), ?ending, "chat connection ending");
    // The others hear of it at once, before the close below (which may have to wait).
    chat.leave(member).await;
    // A client that does not read may never take the close frame: do not wait on it for long.
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close(ending.close_reason())).await;
}

async fn read(
    chat: &ChatService,
    member: &ChatMember,
    mut frames: AggregatedMessageStream,
    control: &mpsc::Sender<Control>,
    last_seen: &Cell<Instant>,
) -> Ending {
    while let Some(frame) = frames.recv().await {
        last_seen.set(Instant::now());
        match frame {
            Ok(AggregatedMessage::Text(text)) => {
                if let Err(kick) = chat.say(member, &text).await {
                    return Ending::Kicked(kick);
                }
            }
            Ok(AggregatedMessage::Ping(payload)) => {
                let _ = control.try_send(Control::Pong(payload.to_vec()));
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Binary(_)) => return Ending::Unsupported,
            Ok(AggregatedMessage::Close(_)) => return Ending::Gone,
            Err(ProtocolError::Overflow) => return Ending::TooBig,
            Err(err) => {
                debug!(client = %member.who(), error = %err, "chat protocol error");
                return Ending::Broken;
            }
        }
    }
    Ending::Gone
}

async fn write(
    mut session: Session,
    mut texts: impl Stream<Item = String> + Unpin,
    mut controls: mpsc::Receiver<Control>,
) -> Ending {
    loop {
        let sent = tokio::select! {
            text = texts.next() => match text {
                Some(text) => session.text(text).await,
                // The chat let go of this connection, kicking it first: `kicked` says why.
                None => return std::future::pending().await,
            },
            control = controls.recv() => match control {
                Some(Control::Ping) => session.ping(b"").await,
                Some(Control::Pong(payload)) => session.pong(&payload).await,
                None => return Ending::Gone,
            },
        };
        if sent.is_err() {
            return Ending::Gone;
        }
    }
}

async fn heartbeat(
    every: Duration,
    timeout: Duration,
    control: &mpsc::Sender<Control>,
    last_seen: &Cell<Instant>,
) -> Ending {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if last_seen.get().elapsed() > timeout {
            return Ending::Silent;
        }
        // A full queue means the writer is stuck; the chat drops such a client on its own.
        let _ = control.try_send(Control::Ping);
    }
}

/// Ends the connection (4401) once its session is found ended: the event that ends it closes it at
/// once; this catches one that was lost (a broker outage). A check that cannot be made is retried
/// at the next tick.
async fn session_check(every: Duration, watch: &SessionWatch) -> Ending {
    let mut ticks = tokio::time::interval(every);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match watch.auth.still_allowed(&watch.claims).await {
            Ok(true) => {}
            Ok(false) => return Ending::Kicked(Kick::AccessEnded),
            Err(err) => debug!(error = %err, "chat session check failed; retrying at the next tick"),
        }
    }
}
