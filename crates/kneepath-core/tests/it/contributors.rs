//! Contributing factors C1-C5 at their thresholds, and the grade rule
//! (measured wins over reported).

use kneepath_core::Grade;

use super::run;

fn grade_of(toml: &str, id: &str) -> Option<Grade> {
    run(toml)
        .contributors
        .iter()
        .find(|f| f.contributor.id == id)
        .map(|f| f.grade)
}

fn check(id: &str, cases: &[(&str, Option<Grade>)]) {
    for (facts, want) in cases {
        assert_eq!(grade_of(facts, id), *want, "{id} on {facts:?}");
    }
}

const M: Option<Grade> = Some(Grade::Measured);
const R: Option<Grade> = Some(Grade::Reported);

#[test]
fn c1_strength_imbalance() {
    check(
        "strength_imbalance",
        &[
            ("age = 30\nhq_ratio = 0.59", M),
            ("age = 30\nhq_ratio = 0.6", None),
            ("age = 30\nstrength_lsi_pct = 89.9", M),
            ("age = 30\nstrength_lsi_pct = 90", None),
            (
                "age = 30\nquad_focused_training = true\nhamstring_training = \"none\"",
                R,
            ),
            (
                "age = 30\nquad_focused_training = true\nhamstring_training = \"occasional\"",
                None,
            ),
            (
                "age = 30\nquad_focused_training = true\nhamstring_training = \"none\"\nhq_ratio = 0.5",
                M,
            ),
        ],
    );
}

#[test]
fn c2_flexibility() {
    check(
        "flexibility_deficit",
        &[
            ("age = 30\nslr_deg = 69", M),
            ("age = 30\nslr_deg = 70", None),
            ("age = 30\nslr_deg = 75\nslr_other_deg = 85", M),
            ("age = 30\nslr_deg = 76\nslr_other_deg = 85", None),
            ("age = 30\nake_deg = 21", M),
            ("age = 30\nake_deg = 20", None),
            ("age = 30\nhamstrings_feel_tight = true", R),
            ("age = 30\nhamstrings_feel_tight = true\nslr_deg = 60", M),
        ],
    );
}

#[test]
fn c3_overuse() {
    check(
        "overuse",
        &[
            ("age = 30\nacwr = 1.51", M),
            ("age = 30\nacwr = 1.5", None),
            ("age = 30\nload_increase_pct = 30", M),
            ("age = 30\nload_increase_pct = 29", None),
            ("age = 30\nmechanism = \"overuse\"", R),
            (
                "age = 30\nonset = \"gradual\"\nsprint_sessions_per_week = 3",
                R,
            ),
            (
                "age = 30\nonset = \"gradual\"\nsprint_sessions_per_week = 2",
                None,
            ),
            (
                "age = 30\nonset = \"sudden\"\nsprint_sessions_per_week = 5",
                None,
            ),
        ],
    );
}

#[test]
fn c4_warm_up() {
    check(
        "warm_up",
        &[
            (
                "age = 30\nwarm_up = \"sometimes\"\nsports = [\"football\"]",
                R,
            ),
            (
                "age = 30\nwarm_up = \"never\"\nsports = [\"running\", \"yoga\"]",
                R,
            ),
            (
                "age = 30\nwarm_up = \"always\"\nsports = [\"football\"]",
                None,
            ),
            ("age = 30\nwarm_up = \"never\"", None),
            ("age = 30\nwarm_up = \"never\"\nsports = []", None),
        ],
    );
}

#[test]
fn c5_direct_trauma() {
    check(
        "direct_trauma",
        &[
            ("age = 30\nmechanism = \"direct_blow\"", R),
            ("age = 30\nmechanism = \"fall\"", R),
            ("age = 30\nmechanism = \"twist\"", None),
            ("age = 30", None),
        ],
    );
}

#[test]
fn factors_never_change_the_level() {
    let without = run("age = 30\npain_now = 3");
    let with = run(
        "age = 30\npain_now = 3\nhq_ratio = 0.4\nslr_deg = 50\nacwr = 2.0\nwarm_up = \"never\"\nsports = [\"football\"]\nmechanism = \"direct_blow\"",
    );
    assert_eq!(with.contributors.len(), 5);
    assert_eq!(with.level, without.level);
}
