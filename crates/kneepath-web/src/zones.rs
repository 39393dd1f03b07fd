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

/// One choice of the time-zone list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneOption {
    /// The IANA name, as stored.
    pub value: String,
    /// What the list shows: the place within its area (`Los Angeles`).
    pub label: String,
    pub selected: bool,
}

/// The list grouped by area (`America`, `Europe` ...), `UTC` first and on
/// its own (area ""). A stored name the list does not offer (an older
/// alias a browser reported, such as `US/Pacific`) comes first, chosen,
/// so saving the form unchanged keeps it.
pub fn grouped(selected: Option<&str>) -> Vec<(String, Vec<ZoneOption>)> {
    let mut groups: Vec<(String, Vec<ZoneOption>)> = Vec::new();
    let mut found = false;
    for name in offered() {
        let (area, place) = name.split_once('/').unwrap_or(("", name.as_str()));
        let is = Some(name.as_str()) == selected;
        found |= is;
        let option = ZoneOption {
            value: name.clone(),
            label: label(place),
            selected: is,
        };
        match groups.last_mut() {
            Some((a, options)) if a == area => options.push(option),
            _ => groups.push((area.to_string(), vec![option])),
        }
    }
    if let Some(name) = selected
        && !found
    {
        groups.insert(
            0,
            (
                String::new(),
                vec![ZoneOption {
                    value: name.to_string(),
                    label: label(name),
                    selected: true,
                }],
            ),
        );
    }
    groups
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

    #[test]
    fn the_list_is_grouped_by_area_with_the_choice_marked() {
        let groups = grouped(Some("America/Argentina/Buenos_Aires"));
        assert_eq!(groups[0].0, "");
        assert_eq!(groups[0].1[0].value, "UTC");
        let areas: Vec<&str> = groups[1..].iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(areas.first(), Some(&"Africa"));
        assert!(areas.windows(2).all(|w| w[0] < w[1]), "{areas:?}");
        let chosen: Vec<&ZoneOption> = groups
            .iter()
            .flat_map(|(_, o)| o)
            .filter(|o| o.selected)
            .collect();
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].label, "Argentina/Buenos Aires");
        // An alias the list does not offer still shows, chosen, first.
        let groups = grouped(Some("US/Pacific"));
        assert_eq!(groups[0].1[0].value, "US/Pacific");
        assert!(groups[0].1[0].selected);
        assert_eq!(
            groups
                .iter()
                .flat_map(|(_, o)| o)
                .filter(|o| o.selected)
                .count(),
            1
        );
        // Nothing chosen: nothing selected.
        assert!(
            grouped(None)
                .iter()
                .flat_map(|(_, o)| o)
                .all(|o| !o.selected)
        );
    }
}
