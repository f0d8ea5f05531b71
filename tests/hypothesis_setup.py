"""Hypothesis profiles shared by the property and fuzz tests.

`ci` (the default): few examples, a deadline per example and no example database, so the
suite stays short (a few seconds per test). `long`: many examples, no deadline, the
database kept in .hypothesis/ (for a night run: HYPOTHESIS_PROFILE=long). Any profile's
counts can be raised with HYPOTHESIS_EXAMPLES=N. `pytest --hypothesis-show-statistics`
prints how many examples each test ran.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 40)),
    deadline=3000,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 2000)),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
