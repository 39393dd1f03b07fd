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

/// A name as an email greets the person by it: on one line, whatever an
/// older account holds (control and direction characters become spaces).
fn greeting_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
            {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
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
            name = greeting_name(&user.display_name),
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

/// The hour and minute of a reminder time (`HH:MM`, 00:00 to 23:59).
pub fn hour_minute(t: &str) -> Option<(u8, u8)> {
    let t = t.trim();
    let (h, m) = t.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && t.len() == 5).then_some((h, m))
}

/// A reminder time as the form gives it, in the one form stored.
pub fn reminder_time(raw: &str) -> Option<String> {
    hour_minute(raw).map(|(h, m)| format!("{h:02}:{m:02}"))
}

impl App {
    /// Today where the person lives (in `zone`), if its `time` (`HH:MM`)
    /// has come there.
    fn reached(&self, zone: Option<&str>, time: &str) -> Option<kneepath_core::Day> {
        let (h, m) = hour_minute(time)?;
        let local = self.clock.now().to_zoned_datetime(self.clock.zone_of(zone));
        let now = (local.hour() as u8, local.minute() as u8);
        (now >= (h, m)).then(|| self.clock.today_in(zone))
    }

    /// Turn the person's daily check-in reminder on at `time` (`HH:MM` in
    /// their zone) or off (`None`).
    pub async fn set_reminder(
        &self,
        user_id: &kneepath_store::UserId,
        time: Option<&str>,
        ip: Option<&str>,
    ) -> Result<(), AppError> {
        let time = match time {
            None => None,
            Some(raw) => Some(reminder_time(raw).ok_or_else(|| {
                AppError::Invalid(vec![crate::FieldError::new(
                    "reminder_time",
                    "Choose a time of day, like 18:00.".to_string(),
                )])
            })?),
        };
        // Turned on after today's time has passed where the person lives:
        // the first one comes tomorrow, not at once.
        let user = self
            .store
            .user_by_id(user_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let passed = time
            .as_deref()
            .and_then(|t| self.reached(user.time_zone.as_deref(), t));
        Ok(self
            .store
            .set_reminder(user_id, time.as_deref(), passed, ip)
            .await?)
    }

    /// Email the check-in reminders that are due: to each person with one
    /// whose time has come today where they live, who can check in and has
    /// not yet today, once a day (claimed in the store, so several
    /// instances send it once). The email names no health data: it links
    /// the check-in (`link_base` + `/checkin`). Returns how many were sent;
    /// a failed send is logged and not tried again that day.
    pub async fn send_due_reminders(&self, link_base: &str) -> Result<usize, AppError> {
        let Some(mailer) = &self.mailer else {
            return Ok(0);
        };
        let mut sent = 0;
        for (user, time) in self.store.reminders().await? {
            let Some(today) = self.reached(user.time_zone.as_deref(), &time) else {
                continue;
            };
            let ctx = match self.checkin_plan(&user.id, today).await {
                Ok(ctx) => ctx,
                Err(AppError::NoHomePlan) => continue,
                // One account's trouble does not hold up everyone else's.
                Err(e) => {
                    tracing::error!(error = %e, user = %user.id, "a check-in reminder was not sent");
                    continue;
                }
            };
            if ctx.checkin_on(today).is_some()
                || !self.store.claim_reminder(&user.id, today).await?
            {
                continue;
            }
            let body = format!(
                "Hello {name},\n\n\
                 Time for today's kneepath check-in: it takes under a minute.\n{link_base}/checkin\n\n\
                 You asked for this reminder at {time} each day. To change or stop it, go to your account page:\n{link_base}/account#reminder\n",
                name = greeting_name(&user.display_name),
            );
            match mailer
                .send(&user.email, "Your kneepath check-in for today", body)
                .await
            {
                Ok(()) => {
                    sent += 1;
                    self.store
                        .audit(&kneepath_store::NewAudit {
                            actor_id: None,
                            subject_id: Some(&user.id),
                            action: kneepath_store::AuditAction::Create,
                            entity: kneepath_store::AuditEntity::Reminder,
                            entity_id: None,
                            ip: None,
                            detail: Some("check-in reminder emailed"),
                        })
                        .await?;
                }
                Err(e) => tracing::error!(error = %e, "a check-in reminder was not sent"),
            }
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::reminder_time;

    #[test]
    fn an_email_greets_by_a_name_on_one_line() {
        assert_eq!(
            super::greeting_name("Eve\r\n\r\nACTION NEEDED: http://x"),
            "Eve    ACTION NEEDED: http://x"
        );
        assert_eq!(super::greeting_name("a\u{202e}b"), "a b");
    }

    #[test]
    fn a_reminder_time_is_a_time_of_day() {
        assert_eq!(reminder_time("07:30").as_deref(), Some("07:30"));
        assert_eq!(reminder_time(" 18:00 ").as_deref(), Some("18:00"));
        for bad in ["24:00", "7:30", "07:60", "", "noon", "07:30:00"] {
            assert_eq!(reminder_time(bad), None, "{bad}");
        }
    }
}
