//! The progress page: pain series with 7-day averages, weekly adherence,
//! training load with the acute:chronic ratio and single-session spikes, and
//! the phase timeline with the reason for each change.

use axum::extract::State;
use axum::response::Response;
use kneepath_core::series::{daily, weekly_adherence};

use crate::auth::Patient;
use crate::charts::{Series, bar_chart, pain_chart};
use crate::error::WebError;
use crate::service::plan_context;
use crate::state::AppState;
use crate::views::{Layout, ProgressPage, private};

/// At most this many days are charted (the table has them all).
const CHART_DAYS: i32 = 90;

fn fmt1(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// An empty progress page (no charts yet).
pub(crate) fn empty(l: Layout) -> ProgressPage {
    ProgressPage {
        l,
        has_data: false,
        pain_chart: String::new(),
        adherence_chart: String::new(),
        load_chart: String::new(),
        spikes: Vec::new(),
        acwr_now: None,
        timeline: Vec::new(),
        table: Vec::new(),
        summary: String::new(),
        correct_from: None,
        corrected: Vec::new(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Patient(user): Patient,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let today = user.today(&state);
    let mut page = empty(Layout::for_user("Your progress", "progress", &user));
    let Some(ctx) = plan_context(&state, user.id()).await? else {
        return Ok(private(&page));
    };
    let id = ctx.assessment.id.clone();
    if ctx.phase.is_some() {
        page.correct_from = Some(crate::pages::checkin::earliest(&ctx, today).to_string());
    }
    // The closure owns the check-ins and the page parts, so they are freed
    // once the HTML exists, not held while the audit row commits.
    user.audited_read(&state, "progress", Some(&id), move || {
        fill(&mut page, kb, &ctx, today);
        private(&page)
    })
    .await
}

/// Fill the charts, timeline and table of a progress page from a plan's
/// check-ins (also used by the clinician's timeline and the report).
pub(crate) fn fill(
    page: &mut ProgressPage,
    kb: &kneepath_core::KnowledgeBase,
    ctx: &crate::service::PlanContext,
    today: kneepath_core::Day,
) {
    if ctx.checkins.is_empty() {
        return;
    }
    page.has_data = true;
    let cs = &ctx.checkins;
    let end = today.max(cs.last().map_or(today, |c| c.day));
    let start = ctx.plan_start.max(end.plus(-(CHART_DAYS - 1)));
    let points = daily(cs, start, end);
    let days: Vec<_> = points.iter().map(|p| p.day).collect();

    let last = points.last().and_then(|p| p.avg_pain_now);
    let first_week: Vec<f64> = cs
        .iter()
        .filter(|c| c.day < ctx.plan_start.plus(7))
        .map(|c| f64::from(c.pain_now))
        .collect();
    let first =
        (!first_week.is_empty()).then(|| first_week.iter().sum::<f64>() / first_week.len() as f64);
    let meaningful = first.map(|f| {
        kneepath_core::outcomes::meaningful_pain_change(
            f,
            kb.progression.escalate_meaningful_change,
            kneepath_core::outcomes::PAIN_MEANINGFUL_SHARE,
        )
    });
    page.summary = format!(
        "{} check-in{} since {}. Average pain over the last 7 days: {}; in the first week: {}.{}",
        cs.len(),
        if cs.len() == 1 { "" } else { "s" },
        ctx.plan_start,
        fmt1(last),
        fmt1(first),
        meaningful.map_or_else(String::new, |m| format!(
            " A change of {} points from the first week is the smallest that matters (2 points or 30% of where you started, whichever is smaller; the same for getting worse).",
            kneepath_core::outcomes::format1(m)
        ))
    );
    let marks: Vec<(usize, String)> = ctx
        .phase_history
        .iter()
        .filter(|p| p.from_phase.is_some() && p.day >= start && p.day <= end)
        .map(|p| {
            let title = kb
                .phase_by_id(&p.to_phase)
                .map_or(p.to_phase.clone(), |i| kb.phases[i].title.clone());
            (p.day.days_since(start) as usize, title)
        })
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
    page.pain_chart = pain_chart(
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

    let weeks = weekly_adherence(cs, ctx.plan_start, end);
    let labels: Vec<String> = (1..=weeks.len()).map(|i| format!("wk {i}")).collect();
    let values: Vec<Option<f64>> = weeks.iter().map(|w| w.percent).collect();
    page.adherence_chart = bar_chart(
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
        &[],
    );

    let load: Vec<Option<f64>> = points.iter().map(|p| Some(p.load)).collect();
    let max_load = points.iter().map(|p| p.load).fold(0.0, f64::max);
    let spikes: Vec<bool> = points.iter().map(|p| p.spike).collect();
    let day_labels: Vec<String> = days
        .iter()
        .map(|d| {
            let (_, m, dd) = d.ymd();
            format!("{dd}/{m}")
        })
        .collect();
    page.load_chart = bar_chart(
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
        &spikes,
    );
    page.acwr_now = points
        .last()
        .and_then(|p| p.acwr)
        .map(|a| format!("{a:.2}"));
    page.spikes = points
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
    page.timeline = ctx
        .phase_history
        .iter()
        .map(|p| {
            let title = kb
                .phase_by_id(&p.to_phase)
                .map_or(p.to_phase.clone(), |i| kb.phases[i].title.clone());
            (p.day.to_string(), title, p.reason.clone())
        })
        .collect();
    page.corrected = ctx.corrected.iter().map(|d| d.to_string()).collect();
    page.table = cs
        .iter()
        .rev()
        .map(|c| {
            vec![
                c.day.to_string(),
                c.pain_now.to_string(),
                c.morning_pain.map_or("–".into(), |v| v.to_string()),
                c.exercise_pain.map_or("–".into(), |v| v.to_string()),
                format!(
                    "{}/{}",
                    c.planned.iter().filter(|p| c.done.contains(p)).count(),
                    c.planned.len()
                ),
                if c.training_minutes > 0 {
                    format!("{} min, effort {}", c.training_minutes, c.effort)
                } else {
                    "–".into()
                },
            ]
        })
        .collect();
}
