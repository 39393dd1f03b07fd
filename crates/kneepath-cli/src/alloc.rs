//! The memory allocator and its two settings.
//!
//! mimalloc returns freed memory to the system; with glibc's allocator the
//! working memory of each argon2id hash stayed resident (BENCHMARKS.md).
//! mimalloc 3 by default keeps freed pages for a second before returning them,
//! and asks Linux for transparent huge pages on its arenas (2 MiB resident
//! wherever one byte is touched); under load the two kept about 22 MiB more
//! resident than the server uses (BENCHMARKS.md, "Web app under load", runs 8
//! and 15). The purge delay is set here; huge pages are off at build time
//! (the `no_thp` feature in the root `Cargo.toml`), because the first arena
//! is made before `main` runs.
//!
//! Setting the options is a call to mimalloc's C option setter: the
//! workspace's only `unsafe` code, which is why this crate's lints `deny`
//! unsafe code where every other crate's `forbid` it.

use libmimalloc_sys::{mi_option_set, mi_option_t};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Positions in mimalloc 3's `mi_option_e` (include/mimalloc.h); the Rust
// bindings only name mimalloc 2's. The test below checks them by their
// defaults.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;

/// Return freed pages to the system at once and commit the memory of arenas
/// made from now on only when it is used. Called first thing in `main`,
/// before any thread starts.
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mi_option_set` stores an integer in mimalloc's option table; it
    // takes no pointers and may be called at any time from any thread.
    unsafe {
        mi_option_set(PURGE_DELAY, 0);
        mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run in the test binary, where `tune` was not called: positions 15 and
    /// 4 hold mimalloc 3's documented defaults for the purge delay and the
    /// arena commit, so `tune` sets the options it means to.
    #[test]
    #[allow(unsafe_code)]
    fn option_positions_by_their_defaults() {
        use libmimalloc_sys::mi_option_get;
        if std::env::vars().any(|(k, _)| k.starts_with("MIMALLOC_")) {
            return; // defaults overridden from outside
        }
        // SAFETY: plain integer getters of mimalloc's option table.
        let delay = unsafe { mi_option_get(PURGE_DELAY) };
        let eager = unsafe { mi_option_get(ARENA_EAGER_COMMIT) };
        assert_eq!(delay, 1000, "purge_delay default (ms)");
        assert_eq!(eager, 2, "arena_eager_commit default");
    }
}
