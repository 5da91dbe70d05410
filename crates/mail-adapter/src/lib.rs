//! Mail out of hexgate: an outbox folder of `.eml` files (the embedded default — open the file,
//! click the link) or an SMTP server through lettre.

mod message;
mod outbox;
mod smtp;

pub use outbox::OutboxMailer;
pub use smtp::{SmtpMailer, SmtpSettings};
