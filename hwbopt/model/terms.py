"""Money terms that one part of the model hands to another.

Staff and estate decisions move money: pay bills and site costs leave a partner's general
money (``partner``), and the staff and set-up costs of running an intervention must be paid by
whoever funds it (``intervention``). The money block adds them to ``budget`` and ``funding``;
the cost objective adds them all up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Terms:
    # keyed by (partner, year); estate charges a co-located service's lead, which may be None
    partner: dict[tuple[str | None, int], list[Any]] = field(
        default_factory=lambda: defaultdict(list))
    intervention: dict[tuple[str, int], list[Any]] = field(
        default_factory=lambda: defaultdict(list))
