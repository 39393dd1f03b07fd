#!/usr/bin/env python3
"""An independent second reading of the clinical policy, to check the engine against.

The rule and factor tables of ../shared/clinical/triage-policy.md are written out again
here in plain Python, straight from the policy's text and without looking at the
knowledge base. Random people (fact sets weighted towards every threshold the policy
names) are run through both this reading and `kneepath assess --facts FILE --json`; the
level, the exact set of fired rules and the contributing factors with their grade must
agree. A disagreement is printed with the facts that caused it.

Semantics, from the policy and cases/README.md: an absent boolean red flag is "not
present"; an absent number, choice or list is unknown, and so are the two booleans that
describe an ability or an outcome rather than a red flag (`knee_flex_90`,
`could_continue_activity`). A rule fires only when its condition is definitely true
(three-valued logic: an `or` with one true part holds, an `and` with one unknown part
that is not false is unknown). An absent `sports` list means no sport.

usage: policy-oracle.py KNEEPATH_BINARY [--cases N] [--seed S]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

LEVELS = ["self_care", "routine", "urgent", "emergency", "ambulance"]
UNKNOWN = None

UNKNOWN_WHEN_ABSENT = {"knee_flex_90", "could_continue_activity"}
BOOLS = [
    "high_energy_trauma", "pop_at_injury", "could_continue_activity", "pain_limits_walking",
    "night_pain", "knee_flex_90", "knee_locked", "rom_reduced", "giving_way",
    "stiffness_morning", "stiff_after_sitting", "tenderness_above_knee_back",
    "patella_tenderness_isolated", "fibular_head_tenderness", "popping_with_movement",
    "bruising_back_of_thigh", "deformity", "redness_warmth", "fever",
    "calf_swelling_tenderness", "chest_symptoms", "leg_cold_pale_numb", "numbness_tingling",
    "foot_weakness", "unexplained_weight_loss", "cancer_history", "back_pain",
    "recent_surgery_or_immobilisation", "quad_focused_training", "prior_hamstring_injury",
    "hamstrings_feel_tight",
]
CHOICES = {
    "sex": ["female", "male", "other"],
    "onset": ["sudden", "gradual"],
    "mechanism": ["sprint", "overstretch", "direct_blow", "fall", "twist", "landing",
                  "overuse", "none"],
    "pain_trend": ["improving", "same", "worse"],
    "weight_bearing": ["normal", "limping", "unable"],
    "weight_bearing_immediately": ["normal", "limping", "unable"],
    "swelling": ["none", "mild", "significant"],
    "warm_up": ["never", "sometimes", "always"],
    "hamstring_training": ["none", "occasional", "regular"],
}
# integer facts with values around every threshold the policy uses
INTS = {
    "days_since_onset": [0, 1, 6, 7, 8, 13, 14, 15, 41, 42, 43, 120],
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


def person(rng):
    """A random fact set: each fact present with some chance, red flags rarer."""
    f = {"age": rng.choice([16, 25, 40, 54, 55, 56, 70])}
    for b in BOOLS:
        if rng.random() < 0.12:
            f[b] = rng.random() < 0.7
    for c, opts in CHOICES.items():
        if rng.random() < 0.5:
            f[c] = rng.choice(opts)
    for n, vals in INTS.items():
        if rng.random() < 0.45:
            f[n] = rng.choice(vals)
    for n, vals in NUMBERS.items():
        if rng.random() < 0.25:
            f[n] = rng.choice(vals)
    if rng.random() < 0.5:
        f["pain_location"] = rng.sample(LOCATIONS, rng.randint(0, 3))
    if rng.random() < 0.6:
        f["sports"] = rng.sample(SPORTS, rng.randint(0, 2))
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


def policy(f):
    """The policy's tables, read directly: (level, fired rule ids, {factor: grade})."""

    def yes(name):
        if name in f:
            return f[name]
        return UNKNOWN if name in UNKNOWN_WHEN_ABSENT else False

    def eq(name, *values):
        return UNKNOWN if name not in f else f[name] in values

    def cmp(name, op, bound):
        if name not in f:
            return UNKNOWN
        v = f[name]
        return {"<": v < bound, "<=": v <= bound, ">=": v >= bound, ">": v > bound}[op]

    def located(*places):
        if "pain_location" not in f:
            return UNKNOWN
        return any(p in f["pain_location"] for p in places)

    acute = AND(eq("onset", "sudden"), cmp("days_since_onset", "<=", 14))
    traumatic = OR(eq("mechanism", "direct_blow", "fall", "twist", "landing"),
                   yes("high_energy_trauma"))
    swollen = eq("swelling", "mild", "significant")
    ottawa = OR(cmp("age", ">=", 55), yes("patella_tenderness_isolated"),
                yes("fibular_head_tenderness"), NOT(yes("knee_flex_90")),
                AND(eq("weight_bearing_immediately", "unable"), eq("weight_bearing", "unable")))

    rules = {
        "A1": ("ambulance", yes("leg_cold_pale_numb")),
        "A2": ("ambulance", AND(yes("calf_swelling_tenderness"), yes("chest_symptoms"))),
        "E1": ("emergency", AND(yes("fever"), OR(yes("redness_warmth"), swollen))),
        "E2": ("emergency", yes("deformity")),
        "E3": ("emergency", AND(yes("high_energy_trauma"), eq("weight_bearing", "unable"))),
        "U1": ("urgent", AND(traumatic, cmp("days_since_onset", "<=", 7), ottawa)),
        "U2": ("urgent", yes("knee_locked")),
        "U3": ("urgent", yes("calf_swelling_tenderness")),
        "U4": ("urgent", yes("redness_warmth")),
        "U5": ("urgent", OR(yes("pain_limits_walking"), eq("weight_bearing", "unable"),
                            cmp("pain_now", ">=", 8))),
        "U6": ("urgent", AND(acute, yes("pop_at_injury"), eq("mechanism", "sprint", "overstretch"))),
        "U7": ("urgent", AND(acute, traumatic, OR(yes("pop_at_injury"), yes("giving_way")))),
        "U8": ("urgent", AND(cmp("swelling_within_hours", "<=", 12), swollen)),
        "U9": ("urgent", yes("foot_weakness")),
        "U10": ("urgent", AND(yes("night_pain"),
                              OR(yes("unexplained_weight_loss"), yes("cancer_history")))),
        "R1": ("routine", AND(cmp("rice_days", ">=", 3), eq("pain_trend", "same", "worse"))),
        "R2": ("routine", eq("pain_trend", "worse")),
        "R3": ("routine", eq("swelling", "significant")),
        "R4": ("routine", yes("giving_way")),
        "R5": ("routine", OR(yes("rom_reduced"), NOT(yes("knee_flex_90")))),
        "R6": ("routine", yes("numbness_tingling")),
        "R7": ("routine", AND(cmp("days_since_onset", ">=", 42), NOT(eq("pain_trend", "improving")))),
        "R8": ("routine", OR(yes("pop_at_injury"), yes("bruising_back_of_thigh"))),
        "R9": ("routine", yes("night_pain")),
        "R10": ("routine", AND(yes("recent_surgery_or_immobilisation"),
                               located("calf", "back_of_knee"))),
    }
    fired = sorted(r for r, (_, cond) in rules.items() if cond is True)
    level = max((rules[r][0] for r in fired), key=LEVELS.index, default="self_care")

    def diff_ge(a, b, bound):
        return UNKNOWN if a not in f or b not in f else f[a] - f[b] >= bound

    sports = len(f.get("sports", [])) > 0
    factors = {
        "strength_imbalance": (
            OR(cmp("hq_ratio", "<", 0.6), cmp("strength_lsi_pct", "<", 90)),
            AND(yes("quad_focused_training"), eq("hamstring_training", "none"))),
        "flexibility_deficit": (
            OR(cmp("slr_deg", "<", 70), diff_ge("slr_other_deg", "slr_deg", 10),
               cmp("ake_deg", ">", 20)),
            yes("hamstrings_feel_tight")),
        "overuse": (
            OR(cmp("acwr", ">", 1.5), cmp("load_increase_pct", ">=", 30)),
            OR(eq("mechanism", "overuse"),
               AND(eq("onset", "gradual"), cmp("sprint_sessions_per_week", ">=", 3)))),
        "warm_up": (False, AND(eq("warm_up", "never", "sometimes"), sports)),
        "direct_trauma": (False, eq("mechanism", "direct_blow", "fall")),
    }
    grades = {}
    for name, (measured, reported) in factors.items():
        if measured is True:
            grades[name] = "measured"
        elif reported is True:
            grades[name] = "reported"
    return level, fired, grades


def engine(binary, facts, path):
    with open(path, "w") as out:
        json.dump(facts, out)
    run = subprocess.run([binary, "assess", "--facts", path, "--json"],
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        return None, run.stderr.strip()
    report = json.loads(run.stdout)
    fired = sorted(r["rule"] for r in report["fired"])
    grades = {c["id"]: c["grade"] for c in report.get("contributors", [])}
    return (report["level"], fired, grades), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261124)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    disagreements = 0
    under = 0
    levels = {lv: 0 for lv in LEVELS}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "facts.json")
        for i in range(args.cases):
            facts = person(rng)
            want = policy(facts)
            levels[want[0]] += 1
            got, error = engine(args.binary, facts, path)
            if got == want:
                continue
            disagreements += 1
            if got is not None and LEVELS.index(got[0]) < LEVELS.index(want[0]):
                under += 1
            if disagreements <= 10:
                print(f"case {i}: policy says {want}, engine says {got or error}\n"
                      f"  facts: {json.dumps(facts, sort_keys=True)}", file=sys.stderr)
    spread = ", ".join(f"{lv} {n}" for lv, n in levels.items())
    print(f"policy oracle: {args.cases} random people ({spread}): "
          f"{disagreements} disagreements, {under} under-triaged")
    sys.exit(1 if disagreements else 0)


if __name__ == "__main__":
    main()
