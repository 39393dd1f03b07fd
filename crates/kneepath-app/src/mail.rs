//! Email: plain-text messages over SMTP (lettre), for password reset links
//! and check-in reminders. Configured per deployment by an SMTP URL
//! (`smtp://host:port` for a local relay or a test sink, `smtps://user:
//! password@host:465` for TLS, `smtp://...?tls=required` for STARTTLS);
//! without one, nothing is mailed and the pages say how else to get help.

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one message may take to hand over.
const SEND_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL is not one kneepath can use: {0}")]
    Url(String),
    #[error("{0:?} is not an email address kneepath can send from: {1}")]
    From(String, String),
    #[error("{0:?} is not an address to send to: {1}")]
    To(String, String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the SMTP server did not take the message: {0}")]
    Send(String),
}

/// Sends the deployment's email.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // The transport holds the SMTP password: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// A mailer for the SMTP server at `url`, sending as `from`
    /// (`"kneepath <no-reply@clinic.example>"` or a bare address).
    pub fn new(url: &str, from: &str) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|e: lettre::address::AddressError| {
            MailError::From(from.to_string(), e.to_string())
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Mailer { transport, from })
    }

    /// Send a plain-text message to one address.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), MailError> {
        let to: Mailbox = to.parse().map_err(|e: lettre::address::AddressError| {
            MailError::To(to.to_string(), e.to_string())
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            // Plain 7-bit text when it is (links stay whole in the raw
            // message); else lettre picks an encoding.
            .body(
                Body::new_with_encoding(
                    body.replace('\n', "\r\n"),
                    ContentTransferEncoding::SevenBit,
                )
                .unwrap_or_else(|raw| Body::new(String::from_utf8_lossy(&raw).into_owned())),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_url_or_sender_is_refused_with_its_reason() {
        assert!(matches!(
            Mailer::new("http://x", "a@b.example"),
            Err(MailError::Url(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:2525", "not an address"),
            Err(MailError::From(..))
        ));
        let m = Mailer::new(
            "smtp://127.0.0.1:2525",
            "kneepath <no-reply@clinic.example>",
        )
        .expect("a mailer");
        assert!(format!("{m:?}").contains("no-reply@clinic.example"));
    }
}
