//! One person's plan changes one at a time.
//!
//! A check-in reads the plan (phase, history, recent check-ins), runs the
//! progression rules on it and stores what they decided. Two of these for
//! the same person at once (two tabs, a retried request, a clinician moving
//! the phase while the patient checks in) would each decide on a plan that
//! no longer holds: both could move the phase, or a check-in could attach
//! to an assessment that was just replaced. Every read-decide-write of a
//! person's plan therefore holds that person's lock from the read to the
//! commit. Different people never wait for each other.
//!
//! The locks live in this process. Instances sharing one PostgreSQL
//! database do not see each other's; there the store's plan version orders
//! them (`kneepath_store::PlanVersion`): a write decided on a plan another
//! instance changed meanwhile is refused, and `App::deciding_on_plan`
//! decides it again on the new plan.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

type Entry = Arc<tokio::sync::Mutex<()>>;

/// The lock of each person whose plan is being changed or waited for.
#[derive(Debug, Default)]
pub struct PlanLocks {
    held: Mutex<HashMap<String, Entry>>,
}

/// Held while one person's plan is read, decided on and written.
#[derive(Debug)]
pub struct PlanGuard<'a> {
    locks: &'a PlanLocks,
    user_id: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl PlanLocks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Wait until no one else is changing this person's plan.
    pub async fn lock(&self, user_id: &str) -> PlanGuard<'_> {
        let entry = self.map().entry(user_id.to_string()).or_default().clone();
        let guard = entry.lock_owned().await;
        PlanGuard {
            locks: self,
            user_id: user_id.to_string(),
            guard: Some(guard),
        }
    }

    /// People whose lock is held or waited for (an entry is removed when
    /// its last holder lets go).
    #[cfg(test)]
    fn entries(&self) -> usize {
        self.map().len()
    }
}

impl Drop for PlanGuard<'_> {
    fn drop(&mut self) {
        // Let go first, so that the count below sees only the map's own
        // reference when no one else holds or waits.
        drop(self.guard.take());
        let mut held = self.locks.map();
        if held
            .get(&self.user_id)
            .is_some_and(|e| Arc::strong_count(e) == 1)
        {
            held.remove(&self.user_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PlanLocks;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_person_at_a_time_and_others_do_not_wait() {
        let locks = Arc::new(PlanLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("ann").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        // While Ann's lock is busy, Bob's is free.
        let bob = tokio::time::timeout(Duration::from_secs(5), locks.lock("bob")).await;
        assert!(bob.is_ok(), "another person waited");
        drop(bob);
        for t in tasks {
            t.await.expect("task");
        }
        assert_eq!(
            most.load(Ordering::SeqCst),
            1,
            "two held Ann's lock at once"
        );
        assert_eq!(locks.entries(), 0, "entries left");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_nothing_behind() {
        let locks = PlanLocks::default();
        let held = locks.lock("ann").await;
        let gave_up = tokio::time::timeout(Duration::from_millis(5), locks.lock("ann")).await;
        assert!(gave_up.is_err());
        drop(held);
        assert_eq!(locks.entries(), 0);
        // And the lock still works afterwards.
        let again = tokio::time::timeout(Duration::from_secs(1), locks.lock("ann")).await;
        assert!(again.is_ok());
    }
}
