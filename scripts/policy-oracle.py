#!/usr/bin/env python3
"""An independent second reading of the clinical policy (v2), to check the engine against.

The rule, factor and plan-rule tables of ../shared/clinical/triage-policy.md are written
out again here in plain Python, straight from the policy's text and without looking at
the knowledge base. Random people (fact sets weighted towards every threshold and case
the policy names) are run through both this reading and
`kneepath assess --facts FILE --json`; these must agree:
- the overall level;
- the exact set of fired rules, and for each the level it gives, its own level, and
  whether it fired only because of a "not sure" answer;
- the contributing factors with their grade;
- the exact set of plan rules (P1-P8) that apply.
A disagreement is printed with the facts that caused it and what differs.

Semantics, from the policy and cases/README.md:
- An absent boolean is "not present", except the two that describe an ability or an
  outcome rather than a warning sign (`knee_flex_90`, `could_continue_activity`): those,
  and every absent number, choice or list, are unknown. A rule fires only when its
  condition is definitely true (three-valued logic: an `or` with one true part holds, an
  `and` with one unknown part and no false part is unknown), with the policy's
  exceptions: unknown `days_since_onset` counts as recent in U1, U6, U7, U12, U13 (via
  "acute" in U6, U7, U13); unknown onset counts as sudden in "acute" and "injury"; an
  unknown mechanism counts as an injury when onset is sudden or unknown; R7 treats an
  unknown trend as not improving; A3 fires unless all of R12's conditions are known to
  hold; U8 has its own branch for an unknown swelling time.
- A boolean may be "unsure". For triage and plan rules it counts as the warning answer
  (present; `false` for `knee_flex_90`); where a rule needs a boolean answered no or not
  reported (R12's `high_energy_trauma`), it never counts as no. A rule fires only because
  of "unsure" when it would not fire with every unsure read as the reassuring answer
  (`no`; `true` for `knee_flex_90`); such a rule gives one level less if it is ambulance
  or emergency. For the contributing factors, unsure counts as not present.
- `mechanism` is one value or a list; "is X"/"includes X" means X is among them.
- `sports` absent, empty or only "none" means no sport.

usage: policy-oracle.py KNEEPATH_BINARY [--cases N] [--seed S]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

LEVELS = ["self_care", "routine", "urgent", "emergency", "ambulance"]
UNKNOWN = None
UNSURE = "unsure"

UNKNOWN_WHEN_ABSENT = {"knee_flex_90", "could_continue_activity"}
BOOLS = [
    "high_energy_trauma", "pop_at_injury", "could_continue_activity", "pain_limits_walking",
    "night_pain", "knee_flex_90", "knee_locked", "rom_reduced", "giving_way",
    "stiffness_morning", "stiff_after_sitting", "tenderness_above_knee_back",
    "patella_tenderness_isolated", "fibular_head_tenderness", "popping_with_movement",
    "bruising_back_of_thigh", "deformity", "redness_warmth", "fever",
    "calf_swelling_tenderness", "chest_symptoms", "leg_cold_pale_numb", "numbness_tingling",
    "foot_weakness", "unexplained_weight_loss", "cancer_history", "back_pain",
    "saddle_numbness_or_bladder_change", "cannot_lift_straight_leg",
    "recent_surgery_or_immobilisation", "quad_focused_training", "prior_hamstring_injury",
    "hamstrings_feel_tight",
]
# red flags that would put almost everyone at ambulance/emergency: rarer in the noise
RARE_BOOLS = {"leg_cold_pale_numb", "chest_symptoms", "deformity", "fever",
              "saddle_numbness_or_bladder_change", "cannot_lift_straight_leg",
              "high_energy_trauma"}
CHOICES = {
    "sex": ["female", "male", "other"],
    "onset": ["sudden", "gradual"],
    "pain_trend": ["improving", "same", "worse"],
    "weight_bearing": ["normal", "limping", "unable"],
    "weight_bearing_immediately": ["normal", "limping", "unable"],
    "swelling": ["none", "mild", "significant"],
    "warm_up": ["never", "sometimes", "always"],
    "hamstring_training": ["none", "occasional", "regular"],
}
MECHANISMS = ["sprint", "overstretch", "direct_blow", "fall", "twist", "landing", "overuse",
              "none"]
TRAUMATIC_MECHANISMS = ["direct_blow", "fall", "twist", "landing"]
# ages around every age threshold (9-16, <16, <=24, <=25, >=55, >=65), the named ones twice
AGES = [9, 9, 15, 15, 16, 16, 24, 24, 25, 25, 26, 26, 54, 54, 55, 55, 64, 64, 65, 65,
        8, 10, 12, 17, 20, 34, 45, 56, 66, 80]
DAYS = [2, 2, 7, 7, 14, 14, 42, 42, 0, 1, 3, 6, 8, 13, 15, 30, 41, 43, 120]
# integer facts with values around every threshold the policy uses
INTS = {
    "days_since_onset": DAYS,
    "pain_now": [0, 2, 5, 7, 8, 9, 10],
    "pain_activity": [0, 3, 6, 9],
    "swelling_within_hours": [0, 2, 11, 12, 13, 48],
    "rice_days": [0, 1, 2, 3, 4, 10],
    "sprint_sessions_per_week": [0, 1, 2, 3, 4, 6],
    "load_increase_pct": [0, 10, 29, 30, 31, 80],
    "slr_deg": [50, 65, 69, 70, 71, 85],
    "slr_other_deg": [60, 70, 75, 79, 80, 81, 90],
    "ake_deg": [5, 19, 20, 21, 35],
}
NUMBERS = {
    "acwr": [0.8, 1.2, 1.5, 1.51, 2.0],
    "hq_ratio": [0.45, 0.59, 0.6, 0.61, 0.75],
    "strength_lsi_pct": [70.0, 89.0, 89.9, 90.0, 95.0],
}
LOCATIONS = ["back_of_knee", "back_of_thigh", "front_of_knee", "inner_knee", "outer_knee",
             "calf", "buttock", "lower_back"]
SPORTS = ["football", "sprinting", "running", "rugby", "basketball", "dance", "cycling"]

RULES = ["A1", "A2", "A3", "E1", "E3", "E4", "E5", "E6",
         "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9", "U10", "U11", "U12", "U13",
         "U14", "U15", "U16",
         "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R11", "R12"]
PLAN_RULES = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"]
FACTORS = ["strength_imbalance", "flexibility_deficit", "overuse", "warm_up", "direct_trauma"]


def answer(rng, p_true=0.9, p_unsure=0.06):
    """A yes/no answer: mostly yes, sometimes "not sure", sometimes no."""
    r = rng.random()
    if r < p_unsure:
        return UNSURE
    return r < p_unsure + (1 - p_unsure) * p_true


def set_mechanism(f, rng, values):
    values = list(dict.fromkeys(values))
    if len(values) == 1 and rng.random() < 0.6:
        f["mechanism"] = values[0]
    else:
        f["mechanism"] = values


def some_mechanism(rng, pool=None):
    pool = pool or [m for m in MECHANISMS if m != "none"]
    if rng.random() < 0.3:
        return rng.sample(pool, 2)
    return [rng.choice(pool)]


def locate(f, *places):
    where = f.setdefault("pain_location", [])
    for p in places:
        if p not in where:
            where.append(p)


def person(rng):
    """A random fact set: background noise, then a few scenarios aimed at the policy's
    rules and thresholds (each applied independently, so they also combine)."""
    f = {"age": rng.choice(AGES)}
    quiet = rng.random() < 0.25
    p_bool = 0.02 if quiet else rng.choice([0.04, 0.08, 0.14])
    for b in BOOLS:
        if rng.random() < (p_bool / 3 if b in RARE_BOOLS else p_bool):
            f[b] = answer(rng, p_true=0.6)
    for c, opts in CHOICES.items():
        if rng.random() < 0.45:
            f[c] = rng.choice(opts)
    if rng.random() < 0.75:
        set_mechanism(f, rng, ["none"] if rng.random() < 0.1 else some_mechanism(rng))
    for n, vals in INTS.items():
        if rng.random() < 0.45:
            f[n] = rng.choice(vals)
    for n, vals in NUMBERS.items():
        if rng.random() < 0.25:
            f[n] = rng.choice(vals)
    if rng.random() < 0.55:
        f["pain_location"] = rng.sample(LOCATIONS, rng.randint(0, 3))
    r = rng.random()
    if r < 0.15:
        f["sports"] = rng.choice([[], ["none"], ["none", rng.choice(SPORTS)]])
    elif r < 0.7:
        f["sports"] = rng.sample(SPORTS, rng.randint(1, 2))
    if quiet:
        return f

    def maybe(p):
        return rng.random() < p

    def early_days():
        if maybe(0.25):
            f.pop("days_since_onset", None)
        else:
            f["days_since_onset"] = rng.choice([0, 1, 2, 2, 3, 6, 7, 7, 8, 13, 14, 15])

    if maybe(0.4):  # an injury: Ottawa, tears, ligaments, neurovascular, extensor, swelling
        if maybe(0.8):
            f["onset"] = "sudden"
        elif maybe(0.5):
            f.pop("onset", None)
        else:
            f["onset"] = "gradual"
        if maybe(0.85):
            set_mechanism(f, rng, some_mechanism(rng))
        else:
            f.pop("mechanism", None)
        early_days()
        if maybe(0.15):
            f["high_energy_trauma"] = answer(rng, 0.7)
        for b, p in [("patella_tenderness_isolated", 0.15), ("fibular_head_tenderness", 0.15),
                     ("pop_at_injury", 0.3), ("giving_way", 0.25),
                     ("numbness_tingling", 0.12), ("cannot_lift_straight_leg", 0.1),
                     ("bruising_back_of_thigh", 0.2), ("could_continue_activity", 0.3)]:
            if maybe(p):
                f[b] = answer(rng, 0.75)
        if maybe(0.3):
            f["knee_flex_90"] = answer(rng, 0.5)
        if maybe(0.15):
            f["weight_bearing_immediately"] = "unable"
            f["weight_bearing"] = rng.choice(["unable", "limping"])
        if maybe(0.3):
            f["swelling"] = rng.choice(["mild", "significant", "none"])
            if maybe(0.5):
                f["swelling_within_hours"] = rng.choice([2, 11, 12, 13, 48])
            else:
                f.pop("swelling_within_hours", None)
    if maybe(0.25):  # long-standing, gradual pain
        f["onset"] = "gradual"
        if maybe(0.8):
            set_mechanism(f, rng, rng.choice([["overuse"], ["none"], ["sprint"], ["overuse", "sprint"]]))
        f["days_since_onset"] = rng.choice([14, 30, 41, 42, 42, 43, 120])
        if maybe(0.7):
            f["pain_trend"] = rng.choice(["improving", "same", "worse"])
        else:
            f.pop("pain_trend", None)
        if maybe(0.5):
            f["rice_days"] = rng.choice([2, 3, 4])
        if maybe(0.4):
            f["sprint_sessions_per_week"] = rng.choice([2, 3, 4])
    if maybe(0.08):  # a deformed knee: dislocation/fracture, or long-standing
        f["deformity"] = answer(rng, 0.85)
        if maybe(0.6):
            f["onset"] = "gradual"
            if maybe(0.85):
                set_mechanism(f, rng, rng.choice([["none"], ["overuse"], ["sprint"],
                                                  ["overuse", "sprint"], ["fall"], ["twist", "overuse"]]))
            else:
                f.pop("mechanism", None)
            r = rng.random()
            if r < 0.4:
                f.pop("high_energy_trauma", None)
            elif r < 0.8:
                f["high_energy_trauma"] = False
            else:
                f["high_energy_trauma"] = answer(rng, 0.5, p_unsure=0.5)
    if maybe(0.07):  # cauda equina
        f["saddle_numbness_or_bladder_change"] = answer(rng, 0.85)
        if maybe(0.5):
            f["back_pain"] = answer(rng, 0.7)
        if maybe(0.6):
            locate(f, "lower_back")
    if maybe(0.08):  # apophyseal avulsion at the sitting bone
        f["age"] = rng.choice([12, 15, 16, 20, 24, 25, 25, 26, 27])
        f["onset"] = rng.choice(["sudden", "sudden", "sudden", "gradual"])
        if maybe(0.2):
            f.pop("onset")
        set_mechanism(f, rng, [rng.choice(["sprint", "overstretch"])]
                      + ([rng.choice(MECHANISMS[2:7])] if maybe(0.3) else []))
        early_days()
        locate(f, "buttock")
    if maybe(0.08):  # slipped growth plate at the hip
        f["age"] = rng.choice([8, 9, 9, 10, 13, 15, 16, 16, 17])
        f["weight_bearing"] = rng.choice(["limping", "limping", "unable", "normal"])
        r = rng.random()
        if r < 0.5:
            f["onset"] = "gradual"
        elif r < 0.8:
            f.pop("onset", None)
        else:
            f["onset"] = "sudden"
    if maybe(0.08):  # after surgery or a cast
        f["recent_surgery_or_immobilisation"] = answer(rng, 0.85)
        if maybe(0.7):
            locate(f, rng.choice(["calf", "back_of_knee"]))
    if maybe(0.07):  # night pain, weight loss, cancer
        for b in rng.sample(["night_pain", "unexplained_weight_loss", "cancer_history"],
                            rng.choice([1, 2, 2, 3])):
            f[b] = answer(rng, 0.9)
    if maybe(0.06):  # young with night pain
        f["age"] = rng.choice([9, 15, 16, 20, 24, 24, 25, 26])
        f["night_pain"] = answer(rng, 0.85)
    if maybe(0.05):  # a clot in the lung, or a leg without blood supply
        b = rng.choice(["chest_symptoms", "chest_symptoms", "leg_cold_pale_numb"])
        f[b] = answer(rng, 0.85)
        if maybe(0.4):
            f["calf_swelling_tenderness"] = answer(rng, 0.7)
    if maybe(0.06):  # fever, with or without a hot or swollen joint
        f["fever"] = answer(rng, 0.85)
        if maybe(0.5):
            f["redness_warmth"] = answer(rng, 0.7)
        if maybe(0.4):
            f["swelling"] = rng.choice(["none", "mild", "significant"])
    return f


# three-valued logic: True, False, UNKNOWN (None)
def AND(*xs):
    if any(x is False for x in xs):
        return False
    return UNKNOWN if any(x is UNKNOWN for x in xs) else True


def OR(*xs):
    if any(x is True for x in xs):
        return True
    return UNKNOWN if any(x is UNKNOWN for x in xs) else False


def NOT(x):
    return UNKNOWN if x is UNKNOWN else not x


def triage_rules(f, reading):
    """The rule table, read with every "unsure" as the warning answer (reading
    "warning") or as the reassuring one ("reassuring"): {rule: (level, flag, condition)}."""

    def yes(name):
        if name not in f:
            return UNKNOWN if name in UNKNOWN_WHEN_ABSENT else False
        v = f[name]
        if v == UNSURE:
            warning = name != "knee_flex_90"  # knee_flex_90's warning answer is false
            return warning if reading == "warning" else not warning
        return v

    def answered_no(name):  # "answered no or not reported": unsure never counts
        return name not in f or f[name] is False

    def eq(name, *values):
        return UNKNOWN if name not in f else f[name] in values

    def cmp(name, op, bound):
        if name not in f:
            return UNKNOWN
        v = f[name]
        return {"<": v < bound, "<=": v <= bound, ">=": v >= bound, ">": v > bound}[op]

    def recent(bound):  # the red-flag windows: unknown time since onset counts as recent
        return True if "days_since_onset" not in f else f["days_since_onset"] <= bound

    def located(*places):
        if "pain_location" not in f:
            return UNKNOWN
        return any(p in f["pain_location"] for p in places)

    mech_known = "mechanism" in f
    mechs = f.get("mechanism")
    mechs = [mechs] if isinstance(mechs, str) else mechs

    def mechanism(*values):  # "mechanism is/includes X"
        return UNKNOWN if not mech_known else any(m in values for m in mechs)

    onset_not_gradual = "onset" not in f or f["onset"] != "gradual"  # unknown = sudden
    acute = AND(onset_not_gradual, recent(14))
    traumatic = OR(mechanism(*TRAUMATIC_MECHANISMS), yes("high_energy_trauma"))
    injury = OR(traumatic,
                AND(onset_not_gradual,
                    True if not mech_known else mechanism("sprint", "overstretch")))
    swollen = eq("swelling", "mild", "significant")
    ottawa = OR(AND(cmp("age", ">=", 55), OR(traumatic, not mech_known)),
                yes("patella_tenderness_isolated"),
                yes("fibular_head_tenderness"),
                NOT(yes("knee_flex_90")),
                AND(eq("weight_bearing_immediately", "unable"), eq("weight_bearing", "unable")))
    # R12: a long-standing deformity; A3 fires unless all of these are known to hold
    longstanding = AND(eq("onset", "gradual"),
                       mech_known and mechanism(*TRAUMATIC_MECHANISMS) is False,
                       answered_no("high_energy_trauma"))
    swelling_time_unknown = "swelling_within_hours" not in f
    serious_signs = [yes("night_pain"), yes("unexplained_weight_loss"), yes("cancer_history")]
    two_of_three = OR(*(AND(a, b) for i, a in enumerate(serious_signs)
                        for b in serious_signs[i + 1:]))

    return {
        "A1": ("ambulance", "possible_vascular_injury", yes("leg_cold_pale_numb")),
        "A2": ("ambulance", "possible_pulmonary_embolism", yes("chest_symptoms")),
        "A3": ("ambulance", "possible_dislocation_or_fracture",
               AND(yes("deformity"), longstanding is not True)),
        "E1": ("emergency", "possible_septic_arthritis",
               AND(yes("fever"), OR(yes("redness_warmth"), swollen))),
        "E3": ("emergency", "possible_fracture",
               AND(yes("high_energy_trauma"), eq("weight_bearing", "unable"))),
        "E4": ("emergency", "possible_neurovascular_injury",
               AND(acute, traumatic, yes("numbness_tingling"))),
        "E5": ("emergency", "possible_cauda_equina",
               AND(yes("saddle_numbness_or_bladder_change"),
                   OR(yes("back_pain"), located("lower_back")))),
        "E6": ("emergency", "possible_extensor_rupture",
               AND(injury, yes("cannot_lift_straight_leg"))),
        "U1": ("urgent", "possible_fracture", AND(injury, recent(7), ottawa)),
        "U2": ("urgent", "possible_locked_knee", yes("knee_locked")),
        "U3": ("urgent", "possible_dvt", yes("calf_swelling_tenderness")),
        "U4": ("urgent", "hot_joint", yes("redness_warmth")),
        "U5": ("urgent", "severe_pain",
               OR(yes("pain_limits_walking"), eq("weight_bearing", "unable"),
                  cmp("pain_now", ">=", 8))),
        "U6": ("urgent", "possible_hamstring_tear",
               AND(acute, yes("pop_at_injury"), mechanism("sprint", "overstretch"))),
        "U7": ("urgent", "possible_ligament_injury",
               AND(acute, traumatic, OR(yes("pop_at_injury"), yes("giving_way")))),
        "U8": ("urgent", "rapid_swelling",
               AND(swollen,
                   OR(cmp("swelling_within_hours", "<=", 12),
                      AND(swelling_time_unknown, acute, traumatic,
                          True if "days_since_onset" not in f
                          else f["days_since_onset"] <= 2)))),
        "U9": ("urgent", "possible_nerve_involvement", yes("foot_weakness")),
        "U10": ("urgent", "possible_serious_pathology", two_of_three),
        "U11": ("urgent", "possible_infection", yes("fever")),
        "U12": ("urgent", "high_energy_trauma", AND(yes("high_energy_trauma"), recent(7))),
        "U13": ("urgent", "possible_avulsion",
                AND(cmp("age", "<=", 25), acute, mechanism("sprint", "overstretch"),
                    located("buttock"))),
        "U14": ("urgent", "possible_bone_tumour", AND(cmp("age", "<=", 24), yes("night_pain"))),
        "U16": ("urgent", "possible_hip_cause",
                AND(cmp("age", ">=", 9), cmp("age", "<=", 16),
                    eq("weight_bearing", "limping", "unable"),
                    "onset" not in f or f["onset"] == "gradual")),
        "U15": ("urgent", "possible_dvt_risk",
                AND(yes("recent_surgery_or_immobilisation"), located("calf", "back_of_knee"))),
        "R1": ("routine", "not_improving",
               AND(cmp("rice_days", ">=", 3), eq("pain_trend", "same", "worse"))),
        "R2": ("routine", "worsening", eq("pain_trend", "worse")),
        "R3": ("routine", "significant_swelling", eq("swelling", "significant")),
        "R4": ("routine", "instability", yes("giving_way")),
        "R5": ("routine", "reduced_mobility", OR(yes("rom_reduced"), NOT(yes("knee_flex_90")))),
        "R6": ("routine", "possible_nerve_involvement", yes("numbness_tingling")),
        "R7": ("routine", "persistent_symptoms",
               AND(cmp("days_since_onset", ">=", 42),
                   "pain_trend" not in f or f["pain_trend"] != "improving")),
        "R8": ("routine", "possible_tear",
               OR(yes("pop_at_injury"), yes("bruising_back_of_thigh"))),
        "R9": ("routine", "night_pain", yes("night_pain")),
        "R11": ("routine", "post_operative", yes("recent_surgery_or_immobilisation")),
        "R12": ("routine", "longstanding_deformity", AND(yes("deformity"), longstanding)),
    }


def one_less(level):
    return {"ambulance": "emergency", "emergency": "urgent"}.get(level, level)


def policy(f):
    """The policy's tables, read directly: (level, {rule: (given level, rule level, only
    because of unsure)}, {factor: grade}, [plan rules])."""
    warning = triage_rules(f, "warning")
    reassuring = triage_rules(f, "reassuring")
    assert set(warning) == set(RULES)
    fired = {}
    flags = set()
    for rule, (level, flag, cond) in warning.items():
        if cond is not True:
            continue
        only_unsure = reassuring[rule][2] is not True
        fired[rule] = (one_less(level) if only_unsure else level, level, only_unsure)
        flags.add(flag)
    level = max((given for given, _, _ in fired.values()), key=LEVELS.index,
                default="self_care")

    # contributing factors: unsure counts as not present
    def present(name):
        return f.get(name) is True

    def eq(name, *values):
        return UNKNOWN if name not in f else f[name] in values

    def cmp(name, op, bound):
        if name not in f:
            return UNKNOWN
        v = f[name]
        return {"<": v < bound, "<=": v <= bound, ">=": v >= bound, ">": v > bound}[op]

    def diff_ge(a, b, bound):
        return UNKNOWN if a not in f or b not in f else f[a] - f[b] >= bound

    mechs = f.get("mechanism")
    mechs = [mechs] if isinstance(mechs, str) else mechs

    def mechanism(*values):
        return UNKNOWN if mechs is None else any(m in values for m in mechs)

    sport = any(s != "none" for s in f.get("sports", []))
    factors = {
        "strength_imbalance": (
            OR(cmp("hq_ratio", "<", 0.6), cmp("strength_lsi_pct", "<", 90)),
            AND(present("quad_focused_training"), eq("hamstring_training", "none"))),
        "flexibility_deficit": (
            OR(cmp("slr_deg", "<", 70), diff_ge("slr_other_deg", "slr_deg", 10),
               cmp("ake_deg", ">", 20)),
            present("hamstrings_feel_tight")),
        "overuse": (
            OR(cmp("acwr", ">", 1.5), cmp("load_increase_pct", ">=", 30)),
            OR(mechanism("overuse"),
               AND(eq("onset", "gradual"), cmp("sprint_sessions_per_week", ">=", 3)))),
        "warm_up": (False, AND(eq("warm_up", "never", "sometimes"), sport)),
        "direct_trauma": (False, mechanism("direct_blow", "fall")),
    }
    grades = {}
    for name, (measured, reported) in factors.items():
        if measured is True:
            grades[name] = "measured"
        elif reported is True:
            grades[name] = "reported"

    # plan rules: unsure counts as the warning answer, as for triage
    def warn(name):
        if name not in f:
            return UNKNOWN if name in UNKNOWN_WHEN_ABSENT else False
        if f[name] == UNSURE:
            return name != "knee_flex_90"
        return f[name]

    def located(*places):
        if "pain_location" not in f:
            return UNKNOWN
        return any(p in f["pain_location"] for p in places)

    plan = {
        "P1": warn("recent_surgery_or_immobilisation"),
        "P2": bool(flags & {"possible_tear", "possible_hamstring_tear",
                            "possible_ligament_injury", "instability"}),
        "P3": OR(cmp("age", ">=", 65), mechanism("fall"), warn("giving_way")),
        "P4": not sport,
        "P5": warn("fever"),
        "P6": NOT(warn("knee_flex_90")),
        "P7": cmp("age", "<", 16),
        "P8": OR(warn("calf_swelling_tenderness"),
                 AND(located("calf", "back_of_knee"),
                     warn("recent_surgery_or_immobilisation"))),
    }
    plan_rules = sorted((p for p, cond in plan.items() if cond is True), key=PLAN_RULES.index)
    return level, fired, grades, plan_rules


def engine(binary, facts, path):
    with open(path, "w") as out:
        json.dump(facts, out)
    for attempt in range(20):  # the binary may briefly be missing while it is rebuilt
        try:
            run = subprocess.run([binary, "assess", "--facts", path, "--json"],
                                 capture_output=True, text=True, check=False)
            break
        except (FileNotFoundError, PermissionError, OSError):
            if attempt == 19:
                raise
            time.sleep(3)
    if run.returncode != 0:
        return None, run.stderr.strip()
    report = json.loads(run.stdout)
    fired = {r["rule"]: (r["level"], r["rule_level"], bool(r.get("unsure")))
             for r in report["fired"]}
    grades = {c["id"]: c["grade"] for c in report.get("contributors", [])}
    plan_rules = sorted((p["id"] for p in report.get("plan_rules", [])),
                        key=lambda p: PLAN_RULES.index(p) if p in PLAN_RULES else 99)
    return (report["level"], fired, grades, plan_rules), None


def differences(want, got):
    """What differs between the policy's reading and the engine's, in words."""
    lines = []
    if want[0] != got[0]:
        lines.append(f"level: policy {want[0]}, engine {got[0]}")
    wf, gf = want[1], got[1]
    only_policy = sorted(set(wf) - set(gf), key=RULES.index)
    only_engine = sorted(set(gf) - set(wf), key=lambda r: RULES.index(r) if r in RULES else 99)
    if only_policy:
        lines.append("fired by the policy only: " + ", ".join(only_policy))
    if only_engine:
        lines.append("fired by the engine only: " + ", ".join(only_engine))

    def show(t):
        return f"gives {t[0]} (rule level {t[1]}){', only because of unsure' if t[2] else ''}"
    for r in sorted(set(wf) & set(gf), key=RULES.index):
        if wf[r] != gf[r]:
            lines.append(f"{r}: policy {show(wf[r])}; engine {show(gf[r])}")
    if want[2] != got[2]:
        lines.append(f"contributors: policy {want[2]}, engine {got[2]}")
    if want[3] != got[3]:
        lines.append(f"plan rules: policy {want[3]}, engine {got[3]}")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--cases", type=int, default=600)
    ap.add_argument("--seed", type=int, default=20261204)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    people = [person(rng) for _ in range(args.cases)]
    wants = [policy(f) for f in people]

    with tempfile.TemporaryDirectory() as tmp:
        def run(i):
            return engine(args.binary, people[i], os.path.join(tmp, f"facts-{i}.json"))
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(run, range(args.cases)))

    disagreements = 0
    under = 0
    levels = {lv: 0 for lv in LEVELS}
    fires = {r: 0 for r in RULES}
    unsure_fires = {r: 0 for r in RULES}
    plan_counts = {p: 0 for p in PLAN_RULES}
    factor_counts = {c: 0 for c in FACTORS}
    for i, (facts, want, (got, error)) in enumerate(zip(people, wants, results)):
        levels[want[0]] += 1
        for r, (_, _, only_unsure) in want[1].items():
            fires[r] += 1
            unsure_fires[r] += only_unsure
        for p in want[3]:
            plan_counts[p] += 1
        for c in want[2]:
            factor_counts[c] += 1
        if got == want:
            continue
        disagreements += 1
        if got is not None and LEVELS.index(got[0]) < LEVELS.index(want[0]):
            under += 1
        if disagreements <= 10:
            why = differences(want, got) if got is not None else [f"engine failed: {error}"]
            print(f"case {i}: policy and engine disagree\n"
                  + "".join(f"  {line}\n" for line in why)
                  + f"  facts: {json.dumps(facts, sort_keys=True)}", file=sys.stderr)

    print("rules fired (by the policy's reading; in brackets: only because of unsure):")
    print("  " + ", ".join(f"{r} {n}" + (f" ({unsure_fires[r]})" if unsure_fires[r] else "")
                           for r, n in fires.items()))
    print("  plan rules: " + ", ".join(f"{p} {n}" for p, n in plan_counts.items())
          + "; factors: " + ", ".join(f"{c} {n}" for c, n in factor_counts.items()))
    never = [r for r, n in fires.items() if n == 0]
    never += [p for p, n in plan_counts.items() if n == 0]
    if never:
        print(f"warning: never fired in this run (the generator does not reach them): "
              f"{', '.join(never)}")
    spread = ", ".join(f"{lv} {n}" for lv, n in levels.items())
    print(f"policy oracle: {args.cases} random people ({spread}): "
          f"{disagreements} disagreements, {under} under-triaged")
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
