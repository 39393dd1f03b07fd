//! Exercise illustrations: each exercise's start and end pose (knowledge
//! base, `exercises.toml`) drawn as a stick figure, side by side, as inline
//! SVG. The sore-side leg and arm are drawn in colour, the other leg in grey.

use std::fmt::Write;

use kneepath_core::KnowledgeBase;
use kneepath_core::kb::{Exercise, Pose, Prop};

use crate::charts::esc;

/// Segment lengths, in drawing units.
const TRUNK: f64 = 52.0;
const THIGH: f64 = 44.0;
const SHIN: f64 = 42.0;
const UPPER_ARM: f64 = 28.0;
const FOREARM: f64 = 26.0;
const FOOT: f64 = 12.0;
const HEAD: f64 = 9.0;

const PANEL_W: f64 = 150.0;
const PANEL_H: f64 = 170.0;
const GROUND: f64 = 152.0;

#[derive(Debug, Clone, Copy)]
struct P(f64, f64);

fn dir(deg: f64, len: f64) -> P {
    let r = deg.to_radians();
    P(len * r.cos(), len * r.sin())
}

fn add(a: P, b: P) -> P {
    P(a.0 + b.0, a.1 + b.1)
}

/// Joint positions of a pose, with the hip at the origin and y pointing up.
struct Skeleton {
    hip: P,
    shoulder: P,
    head: P,
    knee: P,
    ankle: P,
    toe: P,
    knee2: P,
    ankle2: P,
    toe2: P,
    elbow: P,
    hand: P,
}

impl Skeleton {
    fn of(p: &Pose) -> Skeleton {
        let hip = P(0.0, 0.0);
        let shoulder = add(hip, dir(p.trunk, TRUNK));
        let head = add(shoulder, dir(p.trunk, HEAD + 3.0));
        let knee = add(hip, dir(p.thigh, THIGH));
        let ankle = add(knee, dir(p.shin, SHIN));
        let toe = add(ankle, dir(p.foot.unwrap_or(p.shin + 90.0), FOOT));
        let knee2 = add(hip, dir(p.thigh2, THIGH));
        let ankle2 = add(knee2, dir(p.shin2, SHIN));
        let toe2 = add(ankle2, dir(p.shin2 + 90.0, FOOT));
        let elbow = add(shoulder, dir(p.arm, UPPER_ARM));
        let hand = add(elbow, dir(p.forearm, FOREARM));
        Skeleton {
            hip,
            shoulder,
            head,
            knee,
            ankle,
            toe,
            knee2,
            ankle2,
            toe2,
            elbow,
            hand,
        }
    }

    fn points(&self) -> [P; 11] {
        [
            self.hip,
            self.shoulder,
            self.head,
            self.knee,
            self.ankle,
            self.toe,
            self.knee2,
            self.ankle2,
            self.toe2,
            self.elbow,
            self.hand,
        ]
    }

    /// Lowest point (y) and horizontal extent, the head's radius included.
    fn bounds(&self) -> (f64, f64, f64, f64) {
        let pts = self.points();
        let min_y = pts.iter().map(|p| p.1).fold(self.head.1 - HEAD, f64::min);
        let max_y = pts.iter().map(|p| p.1).fold(self.head.1 + HEAD, f64::max);
        let min_x = pts.iter().map(|p| p.0).fold(self.head.0 - HEAD, f64::min);
        let max_x = pts.iter().map(|p| p.0).fold(self.head.0 + HEAD, f64::max);
        (min_x, max_x, min_y, max_y)
    }
}

/// Draw one pose into a panel whose left edge is `x0`.
fn panel(out: &mut String, pose: &Pose, x0: f64, scale: f64, label: &str) {
    let sk = Skeleton::of(pose);
    let (min_x, max_x, min_y, _) = sk.bounds();
    // A prop under the body lifts the figure.
    let lift = match pose.prop {
        Some(Prop::Bike) => 34.0,
        _ => 0.0,
    };
    let cx = x0 + PANEL_W / 2.0 - (min_x + max_x) / 2.0 * scale;
    let map = |p: P| P(cx + p.0 * scale, GROUND - lift - (p.1 - min_y) * scale);
    let line = |out: &mut String, a: P, b: P, color: &str, w: f64| {
        let (a, b) = (map(a), map(b));
        let _ = write!(
            out,
            r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{color}" stroke-width="{w}" stroke-linecap="round"/>"#,
            a.0, a.1, b.0, b.1
        );
    };
    // Props behind the figure.
    match pose.prop {
        Some(Prop::Cushion) => {
            let a = map(sk.ankle);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="30" height="{:.1}" rx="6" fill="#cbd5e1"/>"##,
                a.0 - 15.0,
                a.1 + 4.0,
                (GROUND - a.1 - 4.0).max(4.0)
            );
        }
        Some(Prop::Bike) => {
            let h = map(sk.hip);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="18" height="5" rx="2" fill="#64748b"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{GROUND}" stroke="#64748b" stroke-width="4"/><circle cx="{:.1}" cy="{:.1}" r="14" fill="none" stroke="#94a3b8" stroke-width="3"/>"##,
                h.0 - 9.0,
                h.1 + 5.0,
                h.0,
                h.1 + 10.0,
                h.0 + 8.0,
                h.0 + 30.0,
                GROUND - 14.0
            );
        }
        Some(Prop::Support) => {
            let hand = map(sk.hand);
            let _ = write!(
                out,
                r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{GROUND}" stroke="#94a3b8" stroke-width="5"/>"##,
                hand.0 + 4.0,
                hand.1 - 6.0,
                hand.0 + 4.0
            );
        }
        Some(Prop::Step) => {
            let a = map(sk.ankle);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="34" height="{:.1}" fill="#cbd5e1"/>"##,
                a.0 - 14.0,
                a.1 + 3.0,
                (GROUND - a.1 - 3.0).max(4.0)
            );
        }
        Some(Prop::Partner) => {
            let a = map(sk.ankle);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="14" height="12" rx="3" fill="#94a3b8"/>"##,
                a.0 - 7.0,
                a.1 - 14.0
            );
        }
        _ => {}
    }
    let grey = "#9aa3b2";
    let body = "#334155";
    let accent = "#c2410c";
    let w = (7.0 * scale).max(3.0);
    line(out, sk.hip, sk.knee2, grey, w);
    line(out, sk.knee2, sk.ankle2, grey, w);
    line(out, sk.ankle2, sk.toe2, grey, w * 0.8);
    line(out, sk.hip, sk.shoulder, body, w * 1.2);
    line(out, sk.hip, sk.knee, accent, w);
    line(out, sk.knee, sk.ankle, accent, w);
    line(out, sk.ankle, sk.toe, accent, w * 0.8);
    line(out, sk.shoulder, sk.elbow, body, w * 0.8);
    line(out, sk.elbow, sk.hand, body, w * 0.8);
    let h = map(sk.head);
    let _ = write!(
        out,
        r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="{body}"/>"#,
        h.0,
        h.1,
        HEAD * scale
    );
    match pose.prop {
        Some(Prop::Towel) => {
            let (a, b) = (map(sk.hand), map(sk.toe));
            let _ = write!(
                out,
                r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#0f766e" stroke-width="2.5" stroke-dasharray="5 3"/>"##,
                a.0, a.1, b.0, b.1
            );
        }
        Some(Prop::Weight) => {
            let a = map(sk.hand);
            let _ = write!(
                out,
                r##"<rect x="{:.1}" y="{:.1}" width="22" height="7" rx="3" fill="#475569"/>"##,
                a.0 - 11.0,
                a.1 - 2.0
            );
        }
        _ => {}
    }
    let _ = write!(
        out,
        r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11" fill="#374151">{}</text>"##,
        x0 + PANEL_W / 2.0,
        PANEL_H - 2.0,
        esc(label)
    );
}

/// The illustration of an exercise: start and end position with an arrow.
pub fn exercise_figure(kb: &KnowledgeBase, e: &Exercise) -> String {
    let (a, b) = (&kb.poses[e.figure.0], &kb.poses[e.figure.1]);
    // One scale for both panels, so the person is the same size in each.
    let fit = |p: &Pose| {
        let (x0, x1, y0, y1) = Skeleton::of(p).bounds();
        ((PANEL_W - 16.0) / (x1 - x0)).min((GROUND - 10.0) / (y1 - y0))
    };
    let scale = fit(a).min(fit(b)).min(1.0);
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        r##"<svg viewBox="0 0 {} {PANEL_H}" role="img" aria-labelledby="fig-{id}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif"><title id="fig-{id}">{}: start position, then end position</title><line x1="4" y1="{GROUND}" x2="{}" y2="{GROUND}" stroke="#cbd5e1" stroke-width="2"/>"##,
        PANEL_W * 2.0 + 20.0,
        esc(&e.name),
        PANEL_W * 2.0 + 16.0,
        id = esc(&e.id),
    );
    panel(&mut out, a, 0.0, scale, "Start");
    let _ = write!(
        out,
        r##"<path d="M{0:.1} 80 h14 m-6 -6 l6 6 l-6 6" fill="none" stroke="#64748b" stroke-width="2.5"/>"##,
        PANEL_W + 3.0
    );
    panel(&mut out, b, PANEL_W + 20.0, scale, "End");
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exercise_has_a_drawable_figure() {
        let kb = KnowledgeBase::bundled().expect("kb");
        for e in &kb.exercises {
            let svg = exercise_figure(&kb, e);
            assert!(
                svg.starts_with("<svg") && svg.ends_with("</svg>"),
                "{}",
                e.id
            );
            assert!(!svg.contains("NaN"), "{}", e.id);
            assert!(svg.len() < 4096, "{} figure is {} bytes", e.id, svg.len());
        }
    }
}
