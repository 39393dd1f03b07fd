//! The charts of a plan's check-ins, with a summary in words: pain with
//! 7-day averages (phase moves marked), weekly adherence, daily training
//! load with single-session spikes. Drawn for the person's progress page,
//! the clinician's page of a patient and the report.

use kneepath_core::Day;
use kneepath_core::checkin::CheckIn;
use kneepath_core::series::{daily, weekly_adherence};

use crate::charts::{Highlight, Series, bar_chart, pain_chart};

/// At most this many days are charted (the progress page's table has them
/// all).
pub const CHART_DAYS: i32 = 90;

/// What the charts are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct ProgressInput<'a> {
    /// The plan's check-ins, oldest first.
    pub checkins: &'a [CheckIn],
    pub plan_start: Day,
    /// The person's today: the charts end on it, or on a later check-in.
    pub today: Day,
    /// Each move between phases: its first day and the phase moved to.
    pub moves: &'a [(Day, String)],
    /// The smallest change of pain from the first week that matters, in
    /// points.
    pub meaningful_points: f64,
}

impl<'a> ProgressInput<'a> {
    /// The input of a report's (or a patient page's) progress data.
    pub fn of(p: &'a kneepath_app::report::ProgressData) -> ProgressInput<'a> {
        ProgressInput {
            checkins: &p.checkins,
            plan_start: p.plan_start,
            today: p.today,
            moves: &p.moves,
            meaningful_points: p.meaningful_points,
        }
    }
}

/// The charts (SVG) and what they show in words.
#[derive(Debug, Clone, Default)]
pub struct ProgressCharts {
    pub summary: String,
    pub pain_chart: String,
    pub adherence_chart: String,
    pub load_chart: String,
    /// The acute:chronic workload ratio now, two decimals.
    pub acwr_now: Option<String>,
    /// The latest single-session spikes (at most three), in words.
    pub spikes: Vec<String>,
}

fn fmt1(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// The charts of a plan's check-ins; None when there are none.
pub fn progress_charts(p: &ProgressInput<'_>) -> Option<ProgressCharts> {
    let cs = p.checkins;
    if cs.is_empty() {
        return None;
    }
    let mut out = ProgressCharts::default();
    let end = p.today.max(cs.last().map_or(p.today, |c| c.day));
    let start = p.plan_start.max(end.plus(-(CHART_DAYS - 1)));
    let points = daily(cs, start, end);
    let days: Vec<_> = points.iter().map(|p| p.day).collect();

    let last = points.last().and_then(|p| p.avg_pain_now);
    let first_week: Vec<f64> = cs
        .iter()
        .filter(|c| c.day < p.plan_start.plus(7))
        .map(|c| f64::from(c.pain_now))
        .collect();
    let first =
        (!first_week.is_empty()).then(|| first_week.iter().sum::<f64>() / first_week.len() as f64);
    let meaningful = first.map(|f| {
        kneepath_core::outcomes::meaningful_pain_change(
            f,
            p.meaningful_points,
            kneepath_core::outcomes::PAIN_MEANINGFUL_SHARE,
        )
    });
    out.summary = format!(
        "{} check-in{} since {}. Average pain over the last 7 days: {}; in the first week: {}.{}",
        cs.len(),
        if cs.len() == 1 { "" } else { "s" },
        p.plan_start,
        fmt1(last),
        fmt1(first),
        meaningful.map_or_else(String::new, |m| format!(
            " A change of {} points from the first week is the smallest that matters (2 points or 30% of where you started, whichever is smaller; the same for getting worse).",
            kneepath_core::outcomes::format1(m)
        ))
    );
    let marks: Vec<(usize, String)> = p
        .moves
        .iter()
        .filter(|(day, _)| *day >= start && *day <= end)
        .map(|(day, title)| (day.days_since(start) as usize, title.clone()))
        .collect();
    let series = [
        Series {
            name: "Pain now",
            dash: "",
            color: "#1d4ed8",
            dots: points.iter().map(|p| p.pain_now).collect(),
            line: points.iter().map(|p| p.avg_pain_now).collect(),
        },
        Series {
            name: "Next morning",
            dash: "7 4",
            color: "#7c3aed",
            dots: points.iter().map(|p| p.morning_pain).collect(),
            line: points.iter().map(|p| p.avg_morning_pain).collect(),
        },
        Series {
            name: "During exercises",
            dash: "2 3",
            color: "#c2410c",
            dots: points.iter().map(|p| p.exercise_pain).collect(),
            line: points.iter().map(|p| p.avg_exercise_pain).collect(),
        },
    ];
    out.pain_chart = pain_chart(
        "pain",
        "Pain ratings from 0 to 10 with 7-day averages",
        &format!(
            "From {start} to {end}. 7-day average pain now {}, next-morning {}, during exercises {}.",
            fmt1(last),
            fmt1(points.last().and_then(|p| p.avg_morning_pain)),
            fmt1(points.last().and_then(|p| p.avg_exercise_pain))
        ),
        &days,
        &series,
        &marks,
    );

    let weeks = weekly_adherence(cs, p.plan_start, end);
    let labels: Vec<String> = (1..=weeks.len()).map(|i| format!("wk {i}")).collect();
    let values: Vec<Option<f64>> = weeks.iter().map(|w| w.percent).collect();
    out.adherence_chart = bar_chart(
        "adh",
        "Share of planned exercises done per week",
        &format!(
            "{} weeks. {}",
            weeks.len(),
            weeks
                .iter()
                .enumerate()
                .map(|(i, w)| format!(
                    "Week {}: {}",
                    i + 1,
                    w.percent.map_or("no data".into(), |p| format!("{p:.0}%"))
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &labels,
        &values,
        100.0,
        "%",
        Some((80.0, "80% goal")),
        None,
    );

    let load: Vec<Option<f64>> = points.iter().map(|p| Some(p.load)).collect();
    let max_load = points.iter().map(|p| p.load).fold(0.0, f64::max);
    let spikes: Vec<bool> = points.iter().map(|p| p.spike).collect();
    let day_labels: Vec<String> = days
        .iter()
        .map(|d| {
            let (_, m, dd) = d.ymd();
            format!("{m:02}-{dd:02}")
        })
        .collect();
    out.load_chart = bar_chart(
        "load",
        "Daily training load (minutes times effort)",
        &format!(
            "Highest daily load {max_load:.0}. {} sessions more than 10% longer than the longest of the previous 30 days are shown in red.",
            spikes.iter().filter(|s| **s).count()
        ),
        &day_labels,
        &load,
        max_load,
        "",
        None,
        Some(Highlight {
            bars: &spikes,
            red: "A session more than 10% longer than your longest in the 30 days before",
            plain: "A day's load",
        }),
    );
    out.acwr_now = points
        .last()
        .and_then(|p| p.acwr)
        .map(|a| format!("{a:.2}"));
    out.spikes = points
        .iter()
        .filter(|p| p.spike)
        .rev()
        .take(3)
        .map(|p| {
            format!(
                "{}: a {:.0}-minute session, more than 10% longer than your longest in the 30 days before. Single sessions like this raise the risk of injury; build up in small steps.",
                p.day, p.minutes
            )
        })
        .collect();
    Some(out)
}
