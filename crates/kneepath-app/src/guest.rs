//! Taking the assessment before having an account.
//!
//! A guest answers the wizard like a patient, under an account row with no
//! personal data (see the store's `guests`), for [`GUEST_HOURS`]. Signing
//! up as that guest keeps the answers: the row becomes the new account.
//! Otherwise the guest, the answers and the result are deleted when the
//! time is over ([`App::purge_guests`], which `serve` runs regularly), or
//! at once when the guest asks ([`App::delete_guest`]). The audit log
//! keeps a pseudonymised trail, as for any deleted account.

use kneepath_store::{ConflictKind, StoreError, User, UserId};

use crate::{App, AppError, FieldError};

/// Hours a guest's answers are kept without an account.
pub const GUEST_HOURS: i64 = 24;
/// Guests one network address may start in an hour.
pub const GUESTS_PER_IP_PER_HOUR: i64 = 30;
/// How long counted attempts (logins, sign-ups, guests, reset links) are
/// kept: twice the longest window a limit looks back.
pub const ATTEMPTS_KEPT_HOURS: i64 = 2;
/// Expired guests deleted in one go of [`App::purge_guests`] (the next go
/// takes the rest).
const PURGE_BATCH: i64 = 500;

/// What became of an ask to start as a guest.
#[derive(Debug, Clone, PartialEq)]
pub enum GuestStart {
    /// The guest and the token of the session to answer in.
    Started { guest: User, token: String },
    /// Too many guests from this network address in the last hour.
    TooManyFromAddress,
}

/// A network address as the bucket it is counted in: the first 16 bits of
/// its SHA-256, so about 65,000 IPv4 addresses share each and none can be
/// read back from it.
pub fn address_bucket(ip: &str) -> String {
    kneepath_store::sha256_hex(ip)[..4].to_string()
}

impl App {
    /// Start a guest, counted per network address first (in one
    /// transaction, so a burst stops at the limit too). The address is not
    /// stored with the guest or its audit row, and not even in the count:
    /// that is kept under one of 65,536 buckets of addresses
    /// ([`address_bucket`]), so it cannot be told from the start's time
    /// either. A start refused is not counted (a busy network does not
    /// keep itself locked out).
    pub async fn start_guest(&self, ip: Option<&str>) -> Result<GuestStart, AppError> {
        if let Some(ip) = ip {
            let (ids, counts) = self
                .store
                .reserve_attempt(&[&format!("guest:{}", address_bucket(ip))], 60)
                .await?;
            if counts.first().is_some_and(|n| *n > GUESTS_PER_IP_PER_HOUR) {
                self.store.release_attempts(&ids).await?;
                return Ok(GuestStart::TooManyFromAddress);
            }
        }
        let now = self.clock.now().as_millisecond();
        let (guest, token) = self.store.create_guest(now, GUEST_HOURS).await?;
        Ok(GuestStart::Started { guest, token })
    }

    /// Make `guest` a patient's account with this email, name and password
    /// (checked by the caller), keeping the answers and results; audited.
    /// The guest's sessions end: the caller starts the account's.
    /// [`AppError::NotFound`] when the guest's time is over.
    pub async fn claim_guest(
        &self,
        guest: &UserId,
        email: &str,
        display_name: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<User, AppError> {
        match self
            .store
            .claim_guest(
                guest,
                (email, display_name, password),
                self.clock.now().as_millisecond(),
                ip,
            )
            .await
        {
            Ok(user) => Ok(user),
            Err(StoreError::Conflict(ConflictKind::EmailTaken)) => {
                Err(AppError::Invalid(vec![FieldError::new(
                    "email",
                    crate::conflict_message(&ConflictKind::EmailTaken),
                )]))
            }
            // No longer a guest whose time runs.
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Delete a guest and everything of it now, at the guest's request.
    /// Refused for an account ([`AppError::Forbidden`]).
    pub async fn delete_guest(&self, guest: &User) -> Result<(), AppError> {
        if !guest.is_guest() {
            return Err(AppError::Forbidden(
                "Only answers given without an account are deleted here.".into(),
            ));
        }
        self.store
            .delete_user_as(
                &guest.id,
                "a guest's answers were deleted at the guest's request; no account was made",
            )
            .await?;
        Ok(())
    }

    /// A guest logs in to `account`: the guest's latest result is added to
    /// the account, as the assessment the person would have taken logged
    /// in (dated the day it was answered, so a warning sign in it stops the
    /// account's plan as it should), and the guest is deleted. Nothing is
    /// added to an account that is not a patient's. The new assessment's
    /// id, if one was added.
    pub async fn join_guest(
        &self,
        guest: &User,
        account: &User,
        ip: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        if !guest.is_guest() {
            return Err(AppError::Forbidden("Not a guest.".into()));
        }
        let latest = match account.role {
            kneepath_store::Role::Patient => self.store.latest_assessment(&guest.id).await?,
            _ => None,
        };
        let added = match latest {
            Some(a) => {
                let facts = crate::plan::facts_from_map(&self.kb, &a.facts);
                Some(
                    self.record_assessment(&account.id, &facts, a.source, a.day, ip)
                        .await?,
                )
            }
            None => None,
        };
        self.store
            .delete_user_as(
                &guest.id,
                match added {
                    Some(_) => "a guest's answers were deleted at log-in; their latest result was added to the account logged in to",
                    None => "a guest's answers were deleted at log-in to an account",
                },
            )
            .await?;
        Ok(added)
    }

    /// Forget the attempts the limits counted more than
    /// [`ATTEMPTS_KEPT_HOURS`] ago (they hold addresses and emails). How
    /// many. By the machine's clock, as the attempts are counted.
    pub async fn prune_attempts(&self) -> Result<u64, AppError> {
        let before = jiff::Timestamp::now().as_millisecond() - ATTEMPTS_KEPT_HOURS * 3_600_000;
        Ok(self.store.prune_attempts(before).await?)
    }

    /// Delete every guest whose time is over, with their answers and
    /// results. How many. Times are by this application's clock, which
    /// also set when each guest's time ends.
    pub async fn purge_guests(&self) -> Result<usize, AppError> {
        let now = self.clock.now().as_millisecond();
        let mut purged = 0;
        loop {
            let expired = self.store.expired_guests(now, PURGE_BATCH).await?;
            for id in &expired {
                self.store
                    .delete_user_as(
                        id,
                        "a guest's answers were deleted: no account was made within 24 hours",
                    )
                    .await?;
            }
            purged += expired.len();
            if (expired.len() as i64) < PURGE_BATCH {
                return Ok(purged);
            }
        }
    }
}
