//! The chat's rules: who a client is, and the exact texts it sends.

use std::fmt;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::RuleViolation;

/// The largest text frame a client may send; a larger one closes the connection (1009).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// 1..=64 characters of `[A-Za-z0-9_-]`, as the client chose it (case is kept).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChatClientId(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChatClientIdError {
    #[error("must be 1 to 64 characters")]
    Length,
    #[error("may contain only letters, digits, '_' and '-'")]
    InvalidCharacter,
}

impl RuleViolation for ChatClientIdError {
    fn code(&self) -> &'static str {
        match self {
            Self::Length => "client_id_length",
            Self::InvalidCharacter => "client_id_invalid_character",
        }
    }
}

impl ChatClientId {
    pub const MAX_LEN: usize = 64;

    /// # Errors
    /// [`ChatClientIdError`] naming the rule `raw` breaks.
    pub fn parse(raw: &str) -> Result<Self, ChatClientIdError> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ChatClientIdError::Length);
        }
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(ChatClientIdError::InvalidCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChatClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the sender alone gets back.
#[must_use]
pub fn echo(data: &str) -> String {
    format!("You wrote: {data}")
}

/// What every connected client (the sender too) gets.
#[must_use]
pub fn said(from: &ChatClientId, data: &str) -> String {
    format!("Client {from}: {data}")
}

/// What the others get when a client leaves.
#[must_use]
pub fn left(who: &ChatClientId) -> String {
    format!("Client {who} left the chat")
}

/// What a client that sent more than its share of messages in the window gets instead of its
/// message's echo; the message goes nowhere.
pub const RATE_LIMITED: &str = "Rate limit exceeded";

/// How many messages one connection may send in a fixed window (a minute, by configuration).
/// The window opens with the first message after the previous one ended; past `limit` messages in
/// it, messages are refused until it ends. Time is given, never read, so the rule is testable.
#[derive(Debug, Clone)]
pub struct MessageWindow {
    limit: u32,
    length: Duration,
    opened: Option<Instant>,
    count: u32,
}

impl MessageWindow {
    /// `limit` messages per `length`; a `limit` of 0 refuses every message.
    #[must_use]
    pub fn new(limit: u32, length: Duration) -> Self {
        Self { limit, length, opened: None, count: 0 }
    }

    /// Counts a message sent at `now`: `true` when it is within the limit.
    pub fn admit(&mut self, now: Instant) -> bool {
        match self.opened {
            Some(opened) if now.saturating_duration_since(opened) < self.length => {}
            _ => {
                self.opened = Some(now);
                self.count = 0;
            }
        }
        if self.count >= self.limit {
            return false;
        }
        self.count += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_ends_and_opens_anew() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut window = MessageWindow::new(3, minute);
        assert!(window.admit(start));
        assert!(window.admit(start + Duration::from_secs(1)));
        assert!(window.admit(start + Duration::from_secs(2)));
        assert!(!window.admit(start + Duration::from_secs(3)), "the fourth in the minute");
        assert!(!window.admit(start + Duration::from_millis(59_999)), "still the same window");
        // The window ends a minute after its first message; the next one opens a new window.
        assert!(window.admit(start + minute));
        assert!(window.admit(start + minute + Duration::from_secs(1)));
        assert!(window.admit(start + minute + Duration::from_secs(2)));
        assert!(!window.admit(start + minute + Duration::from_secs(3)));
    }

    #[test]
    fn refused_messages_do_not_count_and_a_zero_limit_refuses_everything() {
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        let mut window = MessageWindow::new(1, minute);
        assert!(window.admit(start));
        for s in 1..50 {
            assert!(!window.admit(start + Duration::from_secs(s)));
        }
        assert!(window.admit(start + minute), "refusals did not extend the window");
        let mut closed = MessageWindow::new(0, minute);
        assert!(!closed.admit(start));
        assert!(!closed.admit(start + minute));
    }

    #[test]
    fn client_ids_are_1_to_64_safe_characters() {
        assert!(ChatClientId::parse("a").is_ok());
        assert!(ChatClientId::parse("Alice_01-x").is_ok());
        assert!(ChatClientId::parse(&"x".repeat(64)).is_ok());
        assert_eq!(ChatClientId::parse(""), Err(ChatClientIdError::Length));
        assert_eq!(ChatClientId::parse(&"x".repeat(65)), Err(ChatClientIdError::Length));
        assert_eq!(ChatClientId::parse("a b"), Err(ChatClientIdError::InvalidCharacter));
        assert_eq!(ChatClientId::parse("../x"), Err(ChatClientIdError::InvalidCharacter));
        assert_eq!(ChatClientId::parse("é"), Err(ChatClientIdError::InvalidCharacter));
    }

    #[test]
    fn messages_read_exactly_as_the_contract_writes_them() {
        let id = ChatClientId::parse("bob").expect("valid");
        assert_eq!(echo("hi"), "You wrote: hi");
        assert_eq!(said(&id, "hi"), "Client bob: hi");
        assert_eq!(left(&id), "Client bob left the chat");
    }
}
