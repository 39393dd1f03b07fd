//! Server-drawn SVG charts: no chart library, no JavaScript. Each chart is
//! an `<svg role="img">` with a `<title>` and a `<desc>` that states the
//! numbers in words, after an HTML legend; the progress page also has the
//! data as a table. Output is deterministic for the same data.
//!
//! A chart is drawn for the box it is in, not scaled: positions are
//! percentages of the plot, while text, dots, strokes and dashes keep their
//! size in pixels. The plot is the `<svg>`'s content box: the stylesheet
//! gives it its height and the padding the axis labels are drawn in (at a
//! pixel offset from the plot's edge), so the margins are the same on a
//! phone and a wide screen. Lines are paths in a nested SVG stretched over
//! the plot with `vector-effect="non-scaling-stroke"`. Series are told
//! apart by line style as well as colour.

use std::fmt::Write;

use kneepath_core::Day;

/// The plot's edges, in percent of its box (the labels are outside it).
const PL: f64 = 0.0;
const PR: f64 = 100.0;
const PT: f64 = 0.0;
const PB: f64 = 100.0;
/// The narrowest plot (a chart on a 320 px phone), in pixels, and the text
/// size: phase labels are kept apart for that width.
const NARROWEST: f64 = 240.0;
const TEXT_PX: f64 = 12.0;

/// Text escaped for SVG/XML content and attributes, written straight into
/// the output (the charts escape every dot's title).
pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// See [`esc`].
#[derive(Debug, Clone, Copy)]
pub struct Esc<'a>(&'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                _ => "&quot;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// One series of a line chart: daily values (None = no data that day).
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
    /// The average line's dash pattern (SVG `stroke-dasharray`, empty for
    /// a solid line): the series differ by more than colour, and a line
    /// drawn over an equal one leaves it visible between its dashes.
    pub dash: &'a str,
    pub dots: Vec<Option<f64>>,
    pub line: Vec<Option<f64>>,
}

/// Where day `i` of `n` is across the plot, from 0 to 1.
fn across(i: usize, n: usize) -> f64 {
    if n <= 1 {
        0.5
    } else {
        i as f64 / (n - 1) as f64
    }
}

/// Day `i` of `n`, in percent of the chart's width.
fn x_at(i: usize, n: usize) -> f64 {
    PL + (PR - PL) * across(i, n)
}

/// `units` (in `10^-places`) written as a decimal by integer arithmetic,
/// then `suffix`; `trim`: without trailing zeros after the point (nor the
/// point when none are left). Float formatting was a tenth of the progress
/// page's time under load.
fn write_decimal(
    f: &mut std::fmt::Formatter<'_>,
    units: i64,
    mut places: u32,
    trim: bool,
    suffix: &[u8],
) -> std::fmt::Result {
    // Digits written backwards into a buffer, then one write.
    let mut buf = [0u8; 32];
    let mut at = buf.len();
    let mut push = |b: u8| {
        at -= 1;
        buf[at] = b;
    };
    for b in suffix.iter().rev() {
        push(*b);
    }
    let mut t = units.unsigned_abs();
    let scale = 10u64.pow(places);
    let mut frac = t % scale;
    t /= scale;
    if trim {
        while places > 0 && frac.is_multiple_of(10) {
            frac /= 10;
            places -= 1;
        }
    }
    if places > 0 {
        for _ in 0..places {
            push(b'0' + (frac % 10) as u8);
            frac /= 10;
        }
        push(b'.');
    }
    loop {
        push(b'0' + (t % 10) as u8);
        t /= 10;
        if t == 0 {
            break;
        }
    }
    if units < 0 {
        push(b'-');
    }
    f.write_str(std::str::from_utf8(&buf[at..]).map_err(|_| std::fmt::Error)?)
}

/// A coordinate with one decimal.
struct D1(f64);

impl std::fmt::Display for D1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_decimal(f, (self.0 * 10.0).round() as i64, 1, false, b"")
    }
}

/// A percentage of the chart's box, to a hundredth of a percent (under a
/// tenth of a pixel on a 900 px chart), trailing zeros left out.
struct Pct(f64);

impl std::fmt::Display for Pct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_decimal(f, (self.0 * 100.0).round() as i64, 2, true, b"%")
    }
}

/// A value as the shortest decimal that reads back as it: whole numbers
/// (every rating) without float formatting.
struct Num(f64);

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v.fract() == 0.0 && v.abs() < 1e15 {
            write!(f, "{}", v as i64)
        } else {
            write!(f, "{v}")
        }
    }
}

/// How high `v` is on a scale to `max`, from 0 (bottom) to 1.
fn up(v: f64, max: f64) -> f64 {
    (v / max).clamp(0.0, 1.0)
}

/// Value `v` of a scale to `max`, in percent of the chart's height.
fn y_at(v: f64, max: f64) -> f64 {
    PB - (PB - PT) * up(v, max)
}

/// The legend (HTML, before the chart): each entry a piece of its line or
/// mark, then its name.
fn legend(out: &mut String, entries: &[(&str, &str, &str, f64)]) {
    out.push_str(r#"<ul class="legend">"#);
    for (name, color, dash, width) in entries {
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{dash}""#)
        };
        let _ = write!(
            out,
            r#"<li><svg width="22" height="10" aria-hidden="true"><line x1="0" x2="22" y1="5" y2="5" stroke="{color}" stroke-width="{width}"{dash}/></svg>{}</li>"#,
            esc(name)
        );
    }
    out.push_str("</ul>");
}

fn open(out: &mut String, title: &str, desc: &str, id: &str) {
    let _ = write!(
        out,
        r#"<svg class="plot" width="100%" height="220" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="{TEXT_PX}"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(desc)
    );
}

/// The nested SVG the lines are drawn in: the plot's box, 1000 units each
/// way, stretched to it; its strokes keep their width and dashes.
fn open_plot(out: &mut String) {
    let _ = write!(
        out,
        r#"<svg x="{}" y="{}" width="{}" height="{}" viewBox="0 0 1000 1000" preserveAspectRatio="none" overflow="visible">"#,
        Pct(PL),
        Pct(PT),
        Pct(PR - PL),
        Pct(PB - PT)
    );
}

fn y_axis(out: &mut String, max: f64, ticks: &[f64], suffix: &str) {
    for t in ticks {
        let y = Pct(y_at(*t, max));
        let _ = write!(
            out,
            r##"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#d9dee7" stroke-width="1"/><text x="{}" y="{y}" dx="-6" dy="4" text-anchor="end" fill="#4b5565">{}{suffix}</text>"##,
            Pct(PL),
            Pct(PR),
            Pct(PL),
            Num(*t),
        );
    }
}

/// A text under the plot, at `x` percent across.
fn bottom_label(out: &mut String, x: f64, anchor: &str, text: impl std::fmt::Display) {
    let _ = write!(
        out,
        r##"<text x="{}" y="{}" dy="17" text-anchor="{anchor}" fill="#4b5565">{text}</text>"##,
        Pct(x),
        Pct(PB),
    );
}

fn x_labels(out: &mut String, days: &[Day]) {
    let n = days.len();
    if n == 0 {
        return;
    }
    // About five labels: they fit the narrowest chart.
    let step = (n / 5).max(1);
    for (i, d) in days.iter().enumerate() {
        if (i % step == 0 && n - 1 - i > step / 2) || i == n - 1 {
            // Month and day as the pages write dates (YYYY-MM-DD): one
            // style on a page, and never read the other way round.
            let (_, m, dd) = d.ymd();
            // The last label ends at the right edge rather than crossing it.
            let anchor = if i == n - 1 && n > 1 { "end" } else { "middle" };
            bottom_label(out, x_at(i, n), anchor, format_args!("{m:02}-{dd:02}"));
        }
    }
}

/// Daily values with 7-day average lines, on a 0-10 scale. `marks` are
/// vertical lines (day index, label), e.g. phase changes.
pub fn pain_chart(
    id: &str,
    title: &str,
    desc: &str,
    days: &[Day],
    series: &[Series<'_>],
    marks: &[(usize, String)],
) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let entries: Vec<_> = series
        .iter()
        .map(|s| (s.name, s.color, s.dash, 2.5))
        .collect();
    legend(&mut out, &entries);
    open(&mut out, title, desc, id);
    y_axis(&mut out, 10.0, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0], "");
    x_labels(&mut out, days);
    let n = days.len();
    // A label that would run into the one before it goes one line lower
    // (widths estimated for the narrowest chart).
    let mut previous: Option<(f64, usize)> = None; // (estimated end in %, line)
    for (i, label) in marks {
        let x = x_at(*i, n);
        let line = match previous {
            Some((end, line)) if x < end + 1.0 => (line + 1) % 3,
            _ => 0,
        };
        let width_px = 3.0 + label.chars().count() as f64 * 0.6 * TEXT_PX;
        previous = Some((x + width_px / NARROWEST * 100.0, line));
        let _ = write!(
            out,
            r##"<line x1="{x}" x2="{x}" y1="{}" y2="{}" stroke="#6b7280" stroke-dasharray="4 3"/><text x="{x}" y="{}" dx="3" dy="{}" fill="#374151">{}</text>"##,
            Pct(PT),
            Pct(PB),
            Pct(PT),
            10 + 14 * line,
            esc(label),
            x = Pct(x),
        );
    }
    for s in series {
        // 7-day average line, broken where there is no data.
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.line.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        d,
                        "{}{},{} ",
                        if pen_down { "L" } else { "M" },
                        D1(1000.0 * across(i, n)),
                        D1(1000.0 * (1.0 - up(*v, 10.0)))
                    );
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !d.is_empty() {
            let dash = if s.dash.is_empty() {
                String::new()
            } else {
                format!(r#" stroke-dasharray="{}""#, s.dash)
            };
            open_plot(&mut out);
            let _ = write!(
                out,
                r#"<path d="{}" fill="none" stroke="{}" stroke-width="2.5" vector-effect="non-scaling-stroke"{dash}/></svg>"#,
                d.trim_end(),
                s.color
            );
        }
        // The dots of a series share their paint, given once.
        let _ = write!(out, r#"<g fill="{}" fill-opacity="0.55">"#, s.color);
        for (i, v) in s.dots.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="3"><title>{}: {} on {}</title></circle>"#,
                    Pct(x_at(i, n)),
                    Pct(y_at(*v, 10.0)),
                    esc(s.name),
                    Num(*v),
                    days[i]
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// A round axis maximum at or above `max`, with ticks: steps of 1, 1.5, 2, 2.5, 3 or 5
/// times a power of ten, about four of them.
fn nice_scale(max: f64) -> (f64, Vec<f64>) {
    let max = if max > 0.0 { max } else { 1.0 };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let top = (max / step).ceil() * step;
    let n = (top / step).round() as usize;
    (top, (0..=n).map(|i| i as f64 * step).collect())
}

/// Bars drawn in red, and what red means (named in the legend).
#[derive(Debug, Clone, Copy)]
pub struct Highlight<'a> {
    pub bars: &'a [bool],
    /// The legend's name for a red bar (and `plain`, for the others).
    pub red: &'a str,
    pub plain: &'a str,
}

/// Vertical bars with labels; `None` bars are drawn as "no data". `threshold`
/// draws a dashed reference line. `highlight` bars are drawn in red, and
/// when any is, the legend says what red and the other bars mean.
#[allow(clippy::too_many_arguments)]
pub fn bar_chart(
    id: &str,
    title: &str,
    desc: &str,
    labels: &[String],
    values: &[Option<f64>],
    max: f64,
    suffix: &str,
    threshold: Option<(f64, &str)>,
    highlight: Option<Highlight<'_>>,
) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let mut entries = Vec::new();
    if let Some(h) = highlight.filter(|h| h.bars.contains(&true)) {
        entries.push((h.plain, "#2563eb", "", 8.0));
        entries.push((h.red, "#b91c1c", "", 8.0));
    }
    if let Some((_, label)) = threshold {
        entries.push((label, "#047857", "6 4", 1.5));
    }
    if !entries.is_empty() {
        legend(&mut out, &entries);
    }
    let highlight = highlight.map_or(&[][..], |h| h.bars);
    open(&mut out, title, desc, id);
    let (max, ticks) = nice_scale(max);
    y_axis(&mut out, max, &ticks, suffix);
    let n = values.len().max(1);
    let slot = (PR - PL) / n as f64;
    let bw = slot * 0.7;
    // About six labels: they fit the narrowest chart.
    let label_every = n.div_ceil(6).max(1);
    for (i, v) in values.iter().enumerate() {
        let x = PL + slot * i as f64 + (slot - bw) / 2.0;
        match v {
            Some(v) => {
                let y = y_at(*v, max);
                let color = if highlight.get(i).copied().unwrap_or(false) {
                    "#b91c1c"
                } else {
                    "#2563eb"
                };
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{color}"><title>{}: {:.0}{suffix}</title></rect>"#,
                    Pct(x),
                    Pct(y),
                    Pct(bw),
                    Pct(PB - y),
                    esc(labels.get(i).map_or("", String::as_str)),
                    v
                );
            }
            None => {
                let _ = write!(
                    out,
                    r##"<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#9ca3af" stroke-width="3"/>"##,
                    Pct(x),
                    Pct(x + bw),
                    Pct(PB),
                    Pct(PB),
                );
            }
        }
        if i % label_every == 0
            && let Some(l) = labels.get(i)
        {
            bottom_label(&mut out, x + bw / 2.0, "middle", esc(l));
        }
    }
    if let Some((t, _)) = threshold {
        let y = Pct(y_at(t, max));
        let _ = write!(
            out,
            r##"<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#047857" stroke-width="1.5" stroke-dasharray="6 4"/>"##,
            Pct(PL),
            Pct(PR),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_decimal_like_float_formatting() {
        for v in [0.0, 0.04, 1.26, 12.349, 99.96, -0.3, -12.36, 640.0] {
            let ours = super::D1(v).to_string();
            let std = format!("{:.1}", v);
            // (Exact halves may round differently; none here.)
            assert_eq!(ours, std, "{v}");
        }
    }

    use super::*;

    #[test]
    fn escaping_and_numbers_as_written() {
        assert_eq!(
            esc(r#"a & <b> "c""#).to_string(),
            "a &amp; &lt;b&gt; &quot;c&quot;"
        );
        assert_eq!(esc("plain").to_string(), "plain");
        assert_eq!(esc("").to_string(), "");
        for v in [0.0, 3.0, 10.0, -2.0, 0.5, 2.25, 1e20] {
            assert_eq!(Num(v).to_string(), v.to_string(), "{v}");
        }
    }

    #[test]
    fn phase_labels_close_together_go_on_separate_lines() {
        let days: Vec<Day> = (0..60).map(Day).collect();
        // Lines apart are written as offsets from the plot's top.
        let y_of = |svg: &str, label: &str| -> String {
            let at = svg.find(&format!(">{label}</text>")).expect("label drawn");
            let start = svg[..at].rfind(" dy=\"").expect("dy") + 5;
            svg[start..start + svg[start..].find('"').expect("end")].to_string()
        };
        let near = pain_chart(
            "p",
            "t",
            "d",
            &days,
            &[],
            &[(10, "Strengthen".into()), (14, "Return to activity".into())],
        );
        assert_ne!(y_of(&near, "Strengthen"), y_of(&near, "Return to activity"));
        let apart = pain_chart(
            "p",
            "t",
            "d",
            &days,
            &[],
            &[(5, "Strengthen".into()), (40, "Return to activity".into())],
        );
        assert_eq!(
            y_of(&apart, "Strengthen"),
            y_of(&apart, "Return to activity")
        );
    }

    #[test]
    fn charts_are_accessible_and_escaped() {
        let days: Vec<Day> = (0..3).map(Day).collect();
        let s = Series {
            name: "Pain <now>",
            color: "#2563eb",
            dash: "7 4",
            dots: vec![Some(3.0), None, Some(5.0)],
            line: vec![Some(3.0), None, Some(4.0)],
        };
        let svg = pain_chart(
            "p",
            "Pain & more",
            "desc",
            &days,
            &[s],
            &[(1, "Mobilise".into())],
        );
        assert!(svg.starts_with(r#"<ul class="legend">"#) && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title id=\"p-t\">Pain &amp; more</title>"));
        assert!(svg.contains("Pain &lt;now&gt;"));
        // The line and its legend are drawn with the series' dashes.
        assert_eq!(svg.matches(r#"stroke-dasharray="7 4""#).count(), 2);
        // The line breaks where a day has no data: two separate moves.
        assert_eq!(
            svg.matches('M').count() - svg.matches("Mobilise").count(),
            2
        );
        assert_eq!(
            pain_chart("p", "Pain & more", "desc", &days, &[], &[]),
            pain_chart("p", "Pain & more", "desc", &days, &[], &[])
        );
    }

    /// Drawn for the box, not scaled: the chart itself has no viewBox, its
    /// positions are percentages, and its text and dots have pixel sizes;
    /// only the lines' own box is stretched, with strokes that keep their
    /// width.
    #[test]
    fn charts_are_drawn_for_their_box() {
        let days: Vec<Day> = (0..30).map(Day).collect();
        let s = Series {
            name: "Pain now",
            color: "#2563eb",
            dash: "",
            dots: (0..30).map(|i| Some(f64::from(i % 10))).collect(),
            line: (0..30).map(|i| Some(f64::from(i % 10))).collect(),
        };
        let svg = pain_chart("p", "t", "d", &days, &[s], &[(10, "Strengthen".into())]);
        let plot = &svg[svg.find("<svg class=\"plot\"").expect("plot")..];
        let outer = &plot[..plot.find('>').expect("tag")];
        assert!(!outer.contains("viewBox"), "{outer}");
        assert!(outer.contains(r#"width="100%""#) && outer.contains(r#"font-size="12""#));
        assert!(
            plot.contains(r#"<circle cx="0%" cy="100%" r="3">"#),
            "{plot}"
        );
        assert!(
            plot.contains(r#"cx="100%""#),
            "the last day at the right edge"
        );
        assert!(plot.contains(r#"preserveAspectRatio="none""#));
        assert!(plot.contains(r#"vector-effect="non-scaling-stroke""#));
        for (v, written) in [
            (12.0, "12%"),
            (45.678, "45.68%"),
            (2.05, "2.05%"),
            (2.5, "2.5%"),
            (0.0, "0%"),
            (100.0, "100%"),
            (0.004, "0%"),
            (-3.25, "-3.25%"),
        ] {
            assert_eq!(Pct(v).to_string(), written, "{v}");
        }
        let bars = bar_chart(
            "b",
            "t",
            "d",
            &["a".into()],
            &[Some(50.0)],
            100.0,
            "%",
            None,
            None,
        );
        assert!(!bars.contains("viewBox"), "{bars}");
        assert!(bars.contains(r#"<rect x="#) && bars.contains(r#"%" height=""#));
    }

    #[test]
    fn bars_mark_missing_and_highlighted_values() {
        let svg = bar_chart(
            "b",
            "t",
            "d",
            &["a".into(), "b".into()],
            &[Some(50.0), None],
            100.0,
            "%",
            Some((80.0, "80%")),
            Some(Highlight {
                bars: &[true, false],
                red: "too long",
                plain: "a day",
            }),
        );
        assert!(svg.contains("#b91c1c"), "highlighted bar");
        // The legend names red and the other bars, before the threshold.
        let legend = &svg[..svg.find("</ul>").expect("a legend")];
        let at = |s: &str| legend.find(s).unwrap_or_else(|| panic!("{s} in {legend}"));
        assert!(at("a day") < at("too long") && at("too long") < at(">80%<"));
        // Nothing red: no entry for it.
        let calm = bar_chart(
            "c",
            "t",
            "d",
            &["a".into()],
            &[Some(5.0)],
            10.0,
            "",
            None,
            Some(Highlight {
                bars: &[false],
                red: "too long",
                plain: "a day",
            }),
        );
        assert!(!calm.contains("legend") && !calm.contains("too long"));
        assert!(svg.contains("#9ca3af"), "no-data marker");
        assert!(svg.contains(">80%<"));
        assert_eq!(nice_scale(450.0), (450.0, vec![0.0, 150.0, 300.0, 450.0]));
        assert_eq!(nice_scale(100.0).0, 100.0);
    }
}
