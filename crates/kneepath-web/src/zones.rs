//! Time zones: a person's "today" is their own calendar day, not the
//! server's. Names are IANA time zone names (`Europe/Oslo`), checked
//! against the time zone database (the system's, or the copy built into
//! the binary when the machine has none).

use std::sync::OnceLock;

/// The database's own top-level areas: the zones offered in the account
/// page's list. Older aliases (`US/Pacific`) are still accepted when a
/// browser reports one, only not listed.
const AREAS: &[&str] = &[
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

/// Longest name accepted (the longest real one has 32 characters).
const MAX_LEN: usize = 64;

/// Whether `name` is a time zone the database knows.
pub fn is_known(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_LEN && jiff::tz::db().get(name).is_ok()
}

/// The zones offered for choosing, sorted, with `UTC` first.
pub fn offered() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| AREAS.iter().any(|a| n.starts_with(a)))
            .collect();
        names.sort();
        names.dedup();
        names.insert(0, "UTC".to_string());
        names
    })
}

/// A zone's name with the underscores the database uses for spaces shown
/// as spaces (`America/New_York` → `America/New York`).
pub fn label(name: &str) -> String {
    name.replace('_', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_names() {
        assert!(is_known("Europe/Oslo"));
        assert!(is_known("America/Argentina/Buenos_Aires"));
        assert!(is_known("UTC"));
        assert!(!is_known(""));
        assert!(!is_known("Mars/Olympus_Mons"));
        assert!(!is_known("../../etc/passwd"));
        assert!(!is_known(&"Europe/".repeat(20)));
    }

    #[test]
    fn the_offered_list_is_sorted_and_known() {
        let list = offered();
        assert_eq!(list[0], "UTC");
        assert!(list.len() > 300, "{} zones", list.len());
        assert!(list[1..].windows(2).all(|w| w[0] < w[1]));
        assert!(list.iter().any(|n| n == "Pacific/Auckland"));
        assert!(
            !list
                .iter()
                .any(|n| n.starts_with("US/") || n.starts_with("Etc/"))
        );
        assert!(list.iter().all(|n| is_known(n)));
    }
}
