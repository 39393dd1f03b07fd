//! Template structs (askama, checked at compile time) and the one render
//! helper. Templates live in `crates/kneepath-web/templates`; they escape
//! everything except SVG the server drew itself (`|safe`).

use std::collections::HashMap;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Render a template; a template error is logged and becomes a 500.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// A private page: rendered, and never cached (it holds health data).
pub fn private<T: Template>(t: &T) -> Response {
    let mut r = render(t);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

tokio::task_local! {
    /// The deployment's emergency number while a request is served: set
    /// by the router's [`deployment`] layer, read by every page's footer.
    static EMERGENCY_NUMBER: std::sync::Arc<str>;
}

/// The layer that makes the deployment's settings every page shows (its
/// emergency number) known while the request is served, including its
/// error pages, which are drawn without the application state.
pub async fn deployment(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let number: std::sync::Arc<str> = state.settings.emergency_number.as_str().into();
    EMERGENCY_NUMBER.scope(number, next.run(req)).await
}

/// What every page's frame needs.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    /// The display name when logged in.
    pub user: Option<String>,
    pub csrf: String,
    /// Which nav entry is current.
    pub nav: &'static str,
    pub is_patient: bool,
    /// `patient`, `clinician`, `admin`, `guest`, or empty when anonymous.
    pub role: &'static str,
}

impl Layout {
    /// The deployment's emergency number (the default one outside a
    /// request, e.g. a page drawn by the connection cap).
    pub fn emergency_number(&self) -> String {
        EMERGENCY_NUMBER
            .try_with(|n| n.to_string())
            .unwrap_or_else(|_| crate::state::DEFAULT_EMERGENCY_NUMBER.to_string())
    }

    pub fn anon(title: &str) -> Layout {
        Layout {
            title: title.to_string(),
            ..Layout::default()
        }
    }

    pub fn for_user(title: &str, nav: &'static str, user: &crate::auth::CurrentUser) -> Layout {
        Layout::of_session(title, nav, &user.session)
    }

    /// The frame of the person a session is, by role.
    pub fn of_session(title: &str, nav: &'static str, session: &kneepath_store::Session) -> Layout {
        let user = &session.user;
        if user.is_guest() {
            // A guest's header offers to sign up or delete the answers; the
            // forms carry the guest's session token.
            return Layout {
                title: title.to_string(),
                csrf: session.csrf_token.clone(),
                nav,
                role: "guest",
                ..Layout::default()
            };
        }
        Layout {
            title: title.to_string(),
            user: Some(user.display_name.clone()),
            csrf: session.csrf_token.clone(),
            nav,
            is_patient: user.role == kneepath_store::Role::Patient,
            role: user.role.as_str(),
        }
    }

    /// The frame of a page drawn without the handler's help (an error): the
    /// asker's, as the session layer made it known, else an anonymous one.
    pub fn of_asker(title: &str) -> Layout {
        let mut l = ASKER
            .try_with(|frame| frame.as_deref().cloned())
            .ok()
            .flatten()
            .unwrap_or_default();
        l.title = title.to_string();
        l
    }
}

tokio::task_local! {
    /// The frame of the person asking, while their request is served
    /// (`None`: anonymous): set by the session layer
    /// ([`crate::auth::load_session`]), read by error pages.
    pub static ASKER: Option<std::sync::Arc<Layout>>;
}

/// Submitted values and per-field messages, for re-rendering a form.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub values: HashMap<String, Vec<String>>,
    pub errors: Vec<(String, String)>,
}

impl FormState {
    pub fn from_pairs(pairs: &[(String, String)]) -> FormState {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            if k != "csrf" {
                values.entry(k.clone()).or_default().push(v.clone());
            }
        }
        FormState {
            values,
            errors: Vec::new(),
        }
    }

    pub fn val(&self, name: &str) -> &str {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }

    pub fn is(&self, name: &str, value: &str) -> bool {
        self.values
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x == value))
    }

    /// Whether any of `names` was given a non-blank value.
    pub fn any(&self, names: &[&str]) -> bool {
        names.iter().any(|n| {
            self.values
                .get(*n)
                .is_some_and(|v| v.iter().any(|x| !x.trim().is_empty()))
        })
    }

    /// Whether any of `names` has a message.
    pub fn any_err(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.err(n).is_some())
    }

    /// A 0-10 scale value is selected.
    pub fn sel(&self, name: &str, value: &usize) -> bool {
        self.val(name) == value.to_string()
    }

    pub fn err(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub l: Layout,
    pub heading: String,
    pub message: String,
}

impl ErrorPage {
    pub fn new(title: &str, message: &str) -> ErrorPage {
        ErrorPage {
            l: Layout::of_asker(title),
            heading: title.to_string(),
            message: message.to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "about.html")]
pub struct AboutPage {
    pub l: Layout,
    pub disclaimer: String,
    pub policy: String,
    pub policy_version: String,
    pub policy_date: String,
    /// The start of the knowledge base's content hash.
    pub kb_version: String,
    /// Every source the knowledge base cites, with its link when it has one.
    pub sources: Vec<(String, Option<String>)>,
    pub contact: Option<String>,
    pub emergency_number: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
pub struct PrivacyPage {
    pub l: Layout,
    /// Where the records are, in words.
    pub database: &'static str,
    pub session_hours: i64,
    /// How long a guest's answers are kept.
    pub guest_hours: i64,
    pub contact: Option<String>,
    /// The service sends email (through its mail server).
    pub mails: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub l: Layout,
    pub has_assessment: bool,
    /// A guest's latest result, to go back to.
    pub guest_result: Option<String>,
    /// Shown once after an account, or a guest's answers, were deleted.
    pub deleted: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "signup.html")]
pub struct SignupPage {
    pub l: Layout,
    pub f: FormState,
    /// Signing up as a guest: the answers given are kept.
    pub guest: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub l: Layout,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    /// After a password was set with a reset link.
    pub password_set: bool,
    /// A guest is logging in: their answers stay with the guest.
    pub guest: bool,
}

/// One answer option.
#[derive(Debug, Clone)]
pub struct OptView {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// One question in the wizard.
#[derive(Debug, Clone)]
pub struct QuestionView {
    pub id: String,
    pub prompt: String,
    pub help: Option<String>,
    /// How to check it on oneself (self-examination questions).
    pub how_to_check: Option<String>,
    /// bool | integer | number | choice | multi
    pub kind: &'static str,
    pub min: String,
    pub max: String,
    pub unit: Option<String>,
    pub options: Vec<OptView>,
    /// Current value (integer, number) or "yes"/"no"/"unsure" (bool);
    /// empty when not answered (nothing is preselected).
    pub value: String,
    /// Free words of an open list, comma-separated.
    pub other: String,
    pub open: bool,
    /// Must be answered whenever shown (the question's `must_answer`).
    pub required: bool,
    /// A choice or list offering "Not sure" (answered, fact unknown).
    pub not_sure: bool,
    pub not_sure_checked: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "wizard.html")]
pub struct WizardPage {
    pub l: Layout,
    pub step: usize,
    pub steps: usize,
    pub section_title: String,
    pub intro: String,
    pub gate: Option<String>,
    pub gate_value: String,
    pub questions: Vec<QuestionView>,
    pub disclaimer: String,
    /// Where the form posts (a step, or the emergency check).
    pub action: String,
    pub can_go_back: bool,
    /// The button shows the result (the last step, or the emergency check).
    pub last: bool,
}

impl WizardPage {
    pub fn error_count(&self) -> usize {
        self.questions.iter().filter(|q| q.error.is_some()).count()
    }
}

/// A guest's confirmation before their answers are deleted.
#[derive(Template)]
#[template(path = "guest_delete.html")]
pub struct GuestDeletePage {
    pub l: Layout,
}

/// The assessment's start for someone not logged in: answer now without
/// an account, or log in or sign up first.
#[derive(Template)]
#[template(path = "assess_start.html")]
pub struct AssessStartPage {
    pub l: Layout,
    /// How long a guest's answers are kept.
    pub hours: i64,
}

#[derive(Template)]
#[template(path = "result.html")]
pub struct ResultPage {
    pub l: Layout,
    pub id: String,
    pub r: kneepath_core::report::AssessmentReport,
    pub day: String,
    pub source: &'static str,
    pub is_latest: bool,
    /// The wizard stopped at once: the step the remaining questions start.
    pub finish_from: Option<usize>,
    /// The deployment's emergency number, for `tel:` links.
    pub emergency_number: String,
    pub home: bool,
    pub seek_care_advice: Vec<kneepath_core::report::AdviceReport>,
    /// For a guest: when the answers are deleted unless an account is made
    /// (`YYYY-MM-DD HH:MM` UTC).
    pub guest_until: Option<String>,
    /// This result comes from the warning signs of a check-in that could
    /// not be saved: say so.
    pub unsaved_checkin: bool,
}

impl ResultPage {
    pub fn level_class(&self) -> &'static str {
        level_class(self.r.level)
    }
}

/// Where an assessment came from, in words: the one list every page uses.
pub fn source_label(s: kneepath_store::AssessmentSource) -> &'static str {
    use kneepath_store::AssessmentSource as S;
    match s {
        S::Wizard => "Questionnaire",
        S::Checkin => "Warning sign in a check-in",
        S::Measurement => "Re-run with a clinician's measurements",
        S::Import => "Imported (FHIR)",
        S::Api => "Sent by an app (API)",
        S::Reassess => "Re-run under a new clinical policy",
    }
}

pub fn level_class(l: kneepath_core::TriageLevel) -> &'static str {
    match l {
        kneepath_core::TriageLevel::Ambulance | kneepath_core::TriageLevel::Emergency => {
            "lvl-emergency"
        }
        kneepath_core::TriageLevel::Urgent => "lvl-urgent",
        kneepath_core::TriageLevel::Routine => "lvl-routine",
        kneepath_core::TriageLevel::SelfCare => "lvl-self",
    }
}

#[derive(Template)]
#[template(path = "assessments.html")]
pub struct AssessmentsPage {
    pub l: Layout,
    pub rows: Vec<(String, String, String, String, &'static str)>,
}

/// An exercise as a card.
#[derive(Debug, Clone)]
pub struct ExerciseCard {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub steps: Vec<String>,
    pub dosage: String,
    pub note: Option<String>,
    pub easier: String,
    pub harder: String,
    pub stop_if: String,
    pub figure: String,
    pub because: Option<String>,
    pub days: String,
    /// The supported version to do instead, and the plan rule that asks
    /// for it (P3).
    pub supported: Option<(String, String)>,
    /// About how many minutes it takes on a day it is scheduled.
    pub minutes: u32,
    /// A sport-return session, counted apart from the exercises.
    pub sport: bool,
    /// What the Today view's counter and timer count (none when a
    /// clinician set the dosage in words): sets, reps, seconds a hold,
    /// minutes a session; and sessions a day (the exercise is done after
    /// the last).
    pub sets: u32,
    pub reps: u32,
    pub hold: u32,
    pub session_minutes: u32,
    pub per_day: u32,
}

#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage {
    pub l: Layout,
    pub has_plan: bool,
    pub level_title: String,
    pub level_class: &'static str,
    pub do_now: String,
    pub seek_care: bool,
    /// Waiting to be seen within a day: the check-in is still open.
    pub waiting: bool,
    pub seek_care_advice: Vec<(String, String)>,
    pub escalation: Option<String>,
    /// The result was re-run under a new clinical policy and changed: the
    /// message and the new result's id.
    pub policy_changed: Option<(String, String)>,
    /// Outcome questionnaires due now: (instrument id, title, why).
    pub due: Vec<(String, String, &'static str)>,
    pub phase_title: String,
    pub phase_goal: String,
    pub phase_days: String,
    pub phase_number: usize,
    pub phase_count: usize,
    pub weekday: String,
    /// Today's date where the person lives (the Today view's counters keep
    /// the day's finished sessions under it).
    pub day: String,
    pub today_cards: Vec<ExerciseCard>,
    pub other_cards: Vec<ExerciseCard>,
    pub exit: Vec<String>,
    pub advice: Vec<(String, String)>,
    /// The warning signs not already reported, each with its level's action.
    pub watch: Vec<kneepath_core::report::WatchReport>,
    pub emergency_number: String,
    pub treatments: Vec<(String, String, String, String)>,
    /// The plan rules that apply, with what they leave out of this plan.
    pub plan_rules: Vec<kneepath_core::report::PlanRuleReport>,
    pub checked_in_today: bool,
    pub assessment_id: String,
    /// The whole plan (`/plan/full`) rather than today's checklist.
    pub full: bool,
    /// Today's minutes of exercises, and of sport-return sessions.
    pub today_minutes: u32,
    pub sport_minutes: u32,
}

#[derive(Template)]
#[template(path = "checkin.html")]
pub struct CheckinPage {
    pub l: Layout,
    /// The questions' words (`checkin.toml`).
    pub q: Questions,
    pub day: String,
    pub earliest: String,
    pub today: String,
    pub exercises: Vec<(String, String)>,
    pub signs: Vec<(String, String)>,
    pub f: FormState,
    /// The day has a check-in: the form shows it for correction.
    pub correcting: bool,
    /// Waiting to be seen after an urgent result: no exercises, and the
    /// form says what it is for.
    pub waiting: bool,
    /// Why the answers shown were not saved, when it was none of them.
    pub not_saved: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "checkin_saved.html")]
pub struct CheckinSavedPage {
    pub l: Layout,
    pub day: String,
    pub headline: String,
    pub details: Vec<String>,
    pub tone: &'static str,
    pub escalation: Option<String>,
    pub retriaged: bool,
    /// The answers saved were a correction.
    pub corrected: bool,
    /// The re-triage's result page.
    pub result_id: Option<String>,
    /// The emergency number, when the re-triage says to call it or to go
    /// to an emergency department.
    pub call: Option<String>,
}

#[derive(Template)]
#[template(path = "progress.html")]
pub struct ProgressPage {
    pub l: Layout,
    pub has_data: bool,
    pub pain_chart: String,
    pub adherence_chart: String,
    pub load_chart: String,
    pub spikes: Vec<String>,
    pub acwr_now: Option<String>,
    pub timeline: Vec<(String, String, String)>,
    pub table: Vec<Vec<String>>,
    pub summary: String,
    /// The person's own page: check-ins from this day on can be corrected.
    pub correct_from: Option<String>,
    /// Days (as the table shows them) whose check-in was corrected since.
    pub corrected: Vec<String>,
}

impl ProgressPage {
    /// Whether the check-in of `day` (as the table shows it) was corrected.
    pub fn was_corrected(&self, day: &str) -> bool {
        self.corrected.iter().any(|d| d == day)
    }

    /// Whether the check-in of `day` (as the table shows it) can be
    /// corrected from this page.
    pub fn correctable(&self, day: &str) -> bool {
        self.correct_from.as_deref().is_some_and(|from| day >= from)
    }
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct AccountPage {
    pub l: Layout,
    /// (link id, clinician name, email, since) of a patient's clinicians.
    pub links: Vec<(String, String, String, String)>,
    /// The patient's active API tokens.
    pub tokens: Vec<kneepath_store::ApiToken>,
    /// A token just made: (name, secret), shown once.
    pub new_token: Option<(String, String)>,
    pub token_error: Option<String>,
    pub created: String,
    pub counts: Vec<(String, usize)>,
    pub error: Option<String>,
    /// When the calendar link was made, if there is one.
    pub calendar_since: Option<String>,
    /// The calendar URL, shown once right after it is made.
    pub calendar_url: Option<String>,
    /// The person's time zone (label), if set.
    pub time_zone: Option<String>,
    /// The zone used when none is set.
    pub default_zone: String,
    /// Today where the person lives.
    pub today: String,
    /// The zones offered, by area ("" for those outside any).
    pub zones: Vec<(String, Vec<crate::zones::ZoneOption>)>,
    pub tz_error: Option<String>,
    pub tz_saved: bool,
    /// The password form: its messages by field.
    pub pw: FormState,
    pub pw_saved: bool,
    /// The name and email form: values (the stored ones at first) and
    /// messages.
    pub details: FormState,
    pub details_saved: bool,
    /// Email can be sent (the reminder is offered).
    pub mails: bool,
    /// The reminder form: the stored time at first (`reminder_time`, and
    /// `reminder` = `on` when set), then what was sent, with messages.
    pub reminder: FormState,
    pub reminder_saved: bool,
    /// The time calendar events start at (the reminder's, else 18:00).
    pub event_time: String,
}

#[derive(Template)]
#[template(path = "reset.html")]
pub struct ResetPage {
    pub l: Layout,
    pub email: String,
    pub token: String,
    pub f: FormState,
}

/// "Forgot your password?": the form, what was done, or, without email,
/// how else to get back in.
#[derive(Template)]
#[template(path = "forgot.html")]
pub struct ForgotPage {
    pub l: Layout,
    /// Email can be sent here.
    pub mails: bool,
    /// The deployment's contact line, when set.
    pub contact: Option<String>,
    /// The address a link was asked for (after the form was sent).
    pub sent_to: Option<String>,
    /// Hours an emailed link works.
    pub hours: i64,
    pub f: FormState,
}

/// The check-in's questions as the knowledge base words them
/// (`checkin.toml`), for the form's template. A field the form lacks reads
/// as empty text; a loaded knowledge base has every one.
pub struct Questions(pub std::sync::Arc<kneepath_core::KnowledgeBase>);

impl Questions {
    fn field(&self, id: &str) -> Option<&kneepath_core::checkin::Field> {
        self.0.checkin.field(id)
    }

    pub fn label(&self, id: &str) -> &str {
        self.field(id).map_or("", |f| f.label.as_str())
    }

    pub fn hint(&self, id: &str) -> &str {
        self.field(id).and_then(|f| f.hint.as_deref()).unwrap_or("")
    }

    /// Words after the label saying the question may be left blank.
    pub fn note(&self, id: &str) -> &str {
        self.field(id)
            .and_then(|f| f.optional_note.as_deref())
            .unwrap_or("")
    }

    /// A choice's answers: (value, words).
    pub fn options(&self, id: &str) -> &[(String, String)] {
        self.field(id).map_or(&[][..], |f| f.options.as_slice())
    }
}
