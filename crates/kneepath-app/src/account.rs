//! Account actions that reach the person outside the app: a password reset
//! link sent by email ("forgot your password").

use crate::{App, AppError};

/// Hours an emailed reset link works.
pub const RESET_LINK_HOURS: i64 = 1;
/// Links mailed to one address in an hour; asking more sends nothing more
/// (and says the same, so the page never tells whether an account exists).
pub const RESETS_PER_EMAIL_PER_HOUR: i64 = 3;
/// Asks from one network address in an hour before it is refused.
pub const RESETS_PER_IP_PER_HOUR: i64 = 10;

/// What became of an ask for a reset link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetAsked {
    /// Taken: a link is on its way if the address has an account (and is
    /// under its hourly limit). The same whether or not it has one.
    Taken,
    /// Too many asks from this network address in the last hour.
    TooManyFromAddress,
}

impl App {
    /// Email a single-use reset link (`link_base` + `/reset/<token>`) to
    /// `email` if an enabled account has it. Counted per address and per
    /// network address before anything else, in one transaction, so a
    /// burst cannot slip under the limits. The mail is handed over in the
    /// background: the answer takes as long whether or not the account
    /// exists; a failure to send is logged.
    pub async fn ask_password_reset(
        &self,
        email: &str,
        link_base: &str,
        ip: Option<&str>,
    ) -> Result<ResetAsked, AppError> {
        let Some(mailer) = self.mailer.clone() else {
            return Err(AppError::Internal("no mailer configured".into()));
        };
        let email = email.trim().to_lowercase();
        let by_email = format!("reset:{email}");
        let by_ip = ip.map(|ip| format!("reset-ip:{ip}"));
        let mut keys = vec![by_email.as_str()];
        keys.extend(by_ip.as_deref());
        let (_, counts) = self.store.reserve_attempt(&keys, 60).await?;
        if counts.get(1).is_some_and(|n| *n > RESETS_PER_IP_PER_HOUR) {
            return Ok(ResetAsked::TooManyFromAddress);
        }
        if counts
            .first()
            .is_some_and(|n| *n > RESETS_PER_EMAIL_PER_HOUR)
        {
            return Ok(ResetAsked::Taken);
        }
        let Some(user) = self.store.user_by_email(&email).await? else {
            return Ok(ResetAsked::Taken);
        };
        if user.disabled {
            return Ok(ResetAsked::Taken);
        }
        let token = self
            .store
            .issue_reset_link(&user.id, RESET_LINK_HOURS, ip)
            .await?;
        let body = format!(
            "Hello {name},\n\n\
             Someone, hopefully you, asked to set a new password for your kneepath account.\n\n\
             To choose one, open this link within an hour. It works once:\n{link_base}/reset/{token}\n\n\
             If it was not you, you can ignore this email: your password stays as it is.\n",
            name = user.display_name,
        );
        tokio::spawn(async move {
            if let Err(e) = mailer
                .send(&user.email, "Set a new kneepath password", body)
                .await
            {
                tracing::error!(error = %e, "a password reset email was not sent");
            }
        });
        Ok(ResetAsked::Taken)
    }
}
