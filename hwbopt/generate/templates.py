"""The generator's templates: the services, priorities, partners and money rules of the
Westshire county instance (``instances/county``), with the staff and space each service needs.

Declarative: every entity :mod:`hwbopt.generate.entities` makes is drawn around one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = {  # id: (name, cost per FTE in £k a year in the first year)
    "support_worker": ("Care and support workers", 24.0),
    "nurse": ("Community nurses", 42.0),
    "social_worker": ("Social workers", 40.0),
    "occupational_therapist": ("Occupational therapists", 40.0),
    "therapist": ("Psychological therapists", 44.0),
    "drug_worker": ("Drug and alcohol workers", 32.0),
    "health_trainer": ("Health trainers and advisers", 26.0),
}

SPACE_TYPES = {  # id: (name, unit, running cost per unit of capacity in £k, a typical site)
    "clinic_room": ("Clinic and consulting rooms", "room-sessions a year", 0.03, 900.0),
    "desk": ("Office desks", "desks", 2.5, 20.0),
    "bed": ("Intermediate care beds", "beds", 12.0, 10.0),
    "community_space": ("Community halls and group rooms", "hall-hours a year", 0.015, 1000.0),
}


Curve = tuple[tuple[float, float], ...]  # response pieces: (upto_share of need, effect)


@dataclass(frozen=True)
class Service:
    """One service of the county: what a unit costs, the need for it, and what it moves."""

    id: str
    name: str
    unit: str
    cost: float  # full cost per unit, £k (staff included)
    cost_growth: float
    need_growth: float
    max_growth: float
    max_growth_of_need: float
    max_reduction: float
    need_per_100k: float
    coverage: float  # current activity / need
    homes: tuple[str, ...]  # partner kinds whose remit holds it; the first leads it
    pool: str | None  # "integrated_care" or "substance_misuse"
    line: str | None  # ring-fenced line of public health that may fund it
    responses: tuple[tuple[str, Curve], ...]  # (priority, curve)
    avoided: tuple[tuple[str, float], ...]  # (partner kind, saving per unit)
    staff: tuple[tuple[str, float], ...]  # (role, share of the full cost)
    space: tuple[tuple[str, float], ...]  # (space type, per unit)


S = Service
# the first four cover two soft and two hard priorities, so the smallest instance has both
SERVICES: tuple[Service, ...] = (
    S("reablement", "Home care reablement", "episode", 2.1, 0.02, 0.03, 0.15, 0.0, 0.1, 812,
      0.65, ("council", "nhs"), "integrated_care", None,
      (("older_people", ((0.6, 0.7), (1.0, 0.5))),), (("nhs", 0.08), ("council", 1.2)),
      (("support_worker", 0.45), ("occupational_therapist", 0.1)), (("desk", 0.004),)),
    S("iapt", "IAPT talking therapies", "completed course", 0.88, 0.02, 0.02, 0.2, 0.05, 0.05,
      1313, 0.53, ("nhs",), None, None, (("mental_health", ((0.6, 0.45), (1.0, 0.35))),),
      (("nhs", 0.03),), (("therapist", 0.6),), (("clinic_room", 7.0),)),
    S("drug_treatment", "Community drug treatment", "client-year", 3.0, 0.02, 0.0, 0.1, 0.0,
      0.05, 388, 0.81, ("public_health",), "substance_misuse", "treatment_budget",
      (("drugs_alcohol", ((0.8, 0.22), (1.0, 0.15))),), (("police", 1.5), ("nhs", 0.05)),
      (("drug_worker", 0.4), ("nurse", 0.1)), (("clinic_room", 6.0),)),
    S("stop_smoking", "NHS stop smoking service", "person setting a quit date", 0.15, 0.0, 0.0,
      0.1, 0.0, 0.2, 1875, 0.5, ("public_health",), None, None,
      (("smoking", ((0.5, 0.5), (1.0, 0.4))),), (("nhs", 0.01),),
      (("health_trainer", 0.4),), (("clinic_room", 4.0),)),
    S("intermediate_care", "Bed-based intermediate care", "admission", 3.6, 0.02, 0.03, 0.1,
      0.0, 0.1, 350, 0.68, ("nhs", "council"), "integrated_care", None,
      (("older_people", ((0.5, 0.65), (1.0, 0.45))),), (("nhs", 0.35), ("council", 0.6)),
      (("nurse", 0.3), ("support_worker", 0.15)), (("bed", 0.06),)),
    S("telecare", "Telecare (alarm, sensors, monitoring)", "user-year", 0.35, 0.0, 0.04, 0.2,
      0.05, 0.15, 2000, 0.44, ("council",), "integrated_care", None,
      (("older_people", ((0.3, 0.1), (0.6, 0.05), (1.0, 0.02))),),
      (("nhs", 0.015), ("council", 0.2)), (("support_worker", 0.15),), (("desk", 0.0005),)),
    S("falls_prevention", "Falls prevention (strength and balance, home hazards)", "person",
      0.3, 0.02, 0.03, 0.25, 0.05, 0.2, 875, 0.26, ("nhs", "public_health"),
      "integrated_care", None, (("older_people", ((0.3, 0.08), (1.0, 0.03))),),
      (("nhs", 0.08), ("council", 0.1)), (("health_trainer", 0.3),),
      (("community_space", 1.2),)),
    S("fire_safety", "Fire home safety visits to vulnerable households", "visit", 0.1, 0.02,
      0.0, 0.2, 0.0, 0.2, 2000, 0.56, ("fire",), None, None,
      (("older_people", ((0.4, 0.012), (1.0, 0.004))),), (("fire", 0.02),), (), ()),
    S("carers_support", "Carers' breaks and support", "carer-year", 0.5, 0.02, 0.02, 0.15, 0.0,
      0.05, 875, 0.46, ("council", "voluntary"), "integrated_care", None,
      (("older_people", ((0.4, 0.08), (1.0, 0.03))), ("mental_health", ((1.0, 0.03),))),
      (("council", 0.3),), (("social_worker", 0.2),), (("community_space", 1.0),)),
    S("dfg", "Disabled facilities grant adaptations", "adaptation", 4.5, 0.02, 0.02, 0.15, 0.0,
      0.05, 144, 0.61, ("council",), "integrated_care", None,
      (("older_people", ((0.5, 0.6), (1.0, 0.4))),), (("council", 1.5), ("nhs", 0.08)),
      (("occupational_therapist", 0.1),), ()),
    S("housing_support", "Housing-related (Supporting People) floating support",
      "household-year", 1.5, 0.0, 0.0, 0.1, 0.0, 0.15, 425, 0.76, ("council", "housing"),
      "integrated_care", None,
      (("older_people", ((0.4, 0.14), (1.0, 0.05))), ("mental_health", ((0.4, 0.1), (1.0, 0.04))),
       ("drugs_alcohol", ((1.0, 0.03),))),
      (("council", 0.5), ("nhs", 0.05), ("police", 0.1)), (("support_worker", 0.6),),
      (("desk", 0.004),)),
    S("befriending", "Befriending and social inclusion", "person-year", 0.25, 0.0, 0.02, 0.25,
      0.05, 0.25, 625, 0.3, ("voluntary", "council"), "integrated_care", None,
      (("older_people", ((0.3, 0.02), (1.0, 0.01))),
       ("mental_health", ((0.3, 0.03), (1.0, 0.015)))), (), (), (("community_space", 2.0),)),
    S("crisis_resolution", "Crisis resolution and home treatment", "episode", 2.4, 0.02, 0.0,
      0.1, 0.0, 0.05, 237, 0.79, ("nhs",), "integrated_care", None,
      (("mental_health", ((1.0, 0.3),)),), (("nhs", 0.35),),
      (("nurse", 0.5), ("social_worker", 0.1)), (("desk", 0.01),)),
    S("ips_employment", "Individual placement and support (IPS) employment", "client-year",
      2.5, 0.02, 0.0, 0.3, 0.05, 0.2, 112, 0.28, ("council",), None, None,
      (("mental_health", ((0.3, 0.4), (1.0, 0.25))),), (), (("support_worker", 0.5),),
      (("desk", 0.01),)),
    S("adult_weight_mgmt", "Adult weight management (12-week referral)", "participant", 0.1,
      0.0, 0.03, 0.3, 0.05, 0.25, 1500, 0.22, ("public_health", "council"), None, None,
      (("obesity", ((0.3, 0.2), (0.7, 0.12), (1.0, 0.06))),), (),
      (("health_trainer", 0.5),), (("community_space", 1.0),)),
    S("child_weight", "Child and family weight management", "child", 0.35, 0.0, 0.03, 0.25,
      0.05, 0.25, 275, 0.2, ("public_health",), None, None,
      (("obesity", ((0.3, 0.4), (1.0, 0.15))),), (), (("health_trainer", 0.4),),
      (("community_space", 1.5),)),
    S("exercise_referral", "Exercise on referral", "participant", 0.2, 0.02, 0.02, 0.25, 0.0,
      0.2, 1000, 0.3, ("council", "public_health"), None, None,
      (("obesity", ((1.0, 0.08),)), ("mental_health", ((1.0, 0.01),)),
       ("older_people", ((1.0, 0.004),))), (), (("health_trainer", 0.3),),
      (("community_space", 1.0),)),
    S("alcohol_treatment", "Specialist community alcohol treatment", "client-year", 1.4, 0.02,
      0.02, 0.15, 0.0, 0.1, 375, 0.4, ("public_health",), "substance_misuse", None,
      (("drugs_alcohol", ((0.5, 0.35), (1.0, 0.25))),), (("nhs", 0.08), ("police", 0.2)),
      (("drug_worker", 0.5),), (("clinic_room", 5.0),)),
    S("alcohol_brief", "Alcohol identification and brief advice (primary care)",
      "brief intervention", 0.03, 0.0, 0.0, 0.4, 0.05, 0.25, 5625, 0.2,
      ("nhs", "public_health"), "substance_misuse", None,
      (("drugs_alcohol", ((0.3, 0.012), (0.7, 0.008), (1.0, 0.004))),), (), (), ()),
    S("alcohol_liaison", "Hospital alcohol liaison nurses", "patient seen", 0.2, 0.02, 0.02,
      0.3, 0.05, 0.2, 625, 0.32, ("nhs",), "substance_misuse", None,
      (("drugs_alcohol", ((0.5, 0.08), (1.0, 0.05))),), (("nhs", 0.12),), (("nurse", 0.7),), ()),
    S("dip", "Drug intervention programme (arrest referral)", "client", 1.0, 0.02, 0.0, 0.1,
      0.0, 0.1, 162, 0.69, ("police",), "substance_misuse", None,
      (("drugs_alcohol", ((1.0, 0.12),)),), (("police", 0.8),), (("drug_worker", 0.5),),
      (("desk", 0.005),)),
    S("larc", "Long-acting reversible contraception for under-25s", "fitting", 0.12, 0.0, 0.0,
      0.25, 0.05, 0.2, 813, 0.4, ("public_health",), None, "sexual_health",
      (("teenage_pregnancy", ((0.5, 0.04), (1.0, 0.025))),), (), (("nurse", 0.3),),
      (("clinic_room", 1.0),)),
    S("sexual_health_outreach", "Young people's sexual health outreach (C-card, drop-ins)",
      "young person", 0.05, 0.0, 0.0, 0.25, 0.05, 0.25, 1500, 0.37,
      ("public_health", "voluntary"), None, "sexual_health",
      (("teenage_pregnancy", ((0.4, 0.008), (1.0, 0.004))),), (), (("nurse", 0.2),),
      (("community_space", 0.2),)),
    S("school_sre", "School sex and relationships education", "pupil", 0.015, 0.0, 0.0, 0.3,
      0.05, 0.25, 2500, 0.3, ("council", "public_health"), None, None,
      (("teenage_pregnancy", ((0.5, 0.002), (1.0, 0.001))),), (), (), ()),
    S("fnp", "Family Nurse Partnership (teenage first-time mothers)", "family-year", 3.0, 0.02,
      0.0, 0.5, 0.1, 0.15, 52, 0.24, ("nhs",), None, None,
      (("teenage_pregnancy", ((1.0, 0.08),)), ("mental_health", ((1.0, 0.03),))),
      (("council", 0.4),), (("nurse", 0.7),), (("desk", 0.02),)),
)
del S

PRIORITIES = {  # id: (name, measure, unit, weight, hard, shortfall penalty)
    "older_people": ("Older people's independence", "older people helped to stay living at "
                     "home", "people", 8.0, False, 6.0),
    "mental_health": ("Mental health", "people moving to recovery or into work after mental "
                      "health support", "people", 5.0, True, 0.0),
    "obesity": ("Healthy weight", "adults losing 5% of body weight at 12 months, or children "
                "reducing BMI z-score", "people", 1.5, False, 2.0),
    "drugs_alcohol": ("Drugs and alcohol", "people leaving treatment free of dependence, or "
                      "drinking reduced to lower risk", "people", 6.0, True, 0.0),
    "teenage_pregnancy": ("Teenage pregnancy", "under-18 conceptions averted", "conceptions",
                          10.0, False, 10.0),
    "smoking": ("Smoking", "smokers quit at four weeks", "people", 0.6, False, 1.0),
}

# (id, name, kind, money rule); cycled with a number for more partners
PARTNER_PLAN = (
    ("ccg", "Clinical commissioning group", "nhs", "qipp"),
    ("county", "County council", "council", "cut28"),
    ("public_health", "Public health", "public_health", "none"),
    ("police", "Police", "police", "cut20"),
    ("fire", "Fire and rescue service", "fire", "cut20"),
    ("voluntary", "Voluntary and community sector", "voluntary", "by_year"),
    ("districts", "District councils", "council", "cut24"),
    ("housing", "Housing association", "housing", "cut10"),
    ("community_trust", "Community health trust", "nhs", "qipp"),
    ("university", "University public health partnership", "other", "none"),
)

# group: (name, ((contributor kind, min_share, max_share, usual part of the pool), ...))
POOLS = {
    "integrated_care": ("Integrated care pool (Section 75)", (
        ("nhs", 0.25, 0.6, 0.45), ("council", 0.15, 0.6, 0.4), ("public_health", 0.0, 0.15, 0.1),
        ("fire", 0.0, 0.3, 0.05))),
    "substance_misuse": ("Drug and alcohol action team pooled budget", (
        ("police", 0.3, 0.9, 0.6), ("public_health", 0.0, 0.15, 0.3), ("nhs", 0.0, 0.1, 0.1))),
}
LINES = {"treatment_budget": "Drug treatment (ring-fenced)",
         "sexual_health": "Prescribed sexual health services"}

SITE_KINDS = {  # owner kind: (site names, space types it may have)
    "nhs": (("health centre", "community hospital", "clinic"),
            ("clinic_room", "desk", "bed")),
    "council": (("council offices", "day centre", "library hub"),
                ("desk", "community_space", "clinic_room")),
    "public_health": (("sexual health clinic", "wellbeing centre"), ("clinic_room", "desk")),
    "police": (("police station",), ("desk",)),
    "fire": (("fire station",), ("community_space", "desk")),
    "voluntary": (("community centre",), ("community_space", "desk")),
    "housing": (("extra care scheme",), ("community_space", "bed")),
    "other": (("campus",), ("desk", "clinic_room")),
}

PLACE_HEADS = ("King", "Salt", "Harrow", "North", "East", "West", "Ash", "Brook", "Thorn",
               "Elm", "Oak", "Mill", "Stone", "Fair", "Black", "White", "Red", "Green",
               "Long", "Hazel", "Wick", "Cold", "Mar", "Brad")
PLACE_TAILS = ("bridge", "marsh", "by", "dale", "wold", "ford", "ham", "ton", "field", "well",
               "stead", "combe", "leigh", "worth", "bury", "minster")

EQUITY_FLOOR = 0.7
TILT = 0.12  # locality coverage within ±12% of the service's coverage: ratio >= 0.786 > 0.7
MONEY_HEADROOM = (1.01, 1.06)
