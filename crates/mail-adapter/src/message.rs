use hexgate_ports::{Mail, PortError};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// The MIME message for `mail`: multipart/alternative with the text part first.
pub(crate) fn build(from: &Mailbox, mail: &Mail) -> Result<Message, PortError> {
    let to: Mailbox = mail.to.parse().map_err(|e| PortError::Internal(format!("bad recipient: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| PortError::Internal(format!("cannot build the message: {e}")))
}

/// Parses `MAIL_FROM`.
///
/// # Errors
/// [`PortError::Internal`] for an address that is not one.
pub fn mailbox(from: &str) -> Result<Mailbox, PortError> {
    from.parse().map_err(|e| PortError::Internal(format!("MAIL_FROM: {e}")))
}
