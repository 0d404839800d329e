"""Hypothesis profiles for the property-based tests of the public forms.

"ci" (the default) is deterministic: the same examples on every run and every machine, no
example database on disk, and no deadline (a 1 MB field or a slow CI box is not a failure).
HYPOTHESIS_PROFILE=explore draws fresh random examples instead, to hunt for new bugs locally.
"""

import os

from hypothesis import HealthCheck, settings

COMMON = {
    "deadline": None,
    "database": None,
    # The tests reuse the pytest client and rows across examples on purpose (each example rolls its
    # own writes back), and some examples carry a 1 MB field.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}
settings.register_profile("ci", derandomize=True, print_blob=True, **COMMON)
settings.register_profile("explore", derandomize=False, print_blob=True, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
