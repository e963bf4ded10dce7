"""What counts as a regression: the thresholds `drill history` judges the newest run by.

Kept apart, with no imports, so that `drill history --help` can print the defaults without
loading the report models or any store.
"""

from __future__ import annotations

DEFAULT_FACTOR = 1.5
DEFAULT_WINDOW = 5
MIN_SAMPLES = 3  # fewer earlier passes than this say too little about a step's usual time
# Below this a slowdown is noise (a sandbox step of 40 ms taking 90 ms), whatever the ratio.
MIN_SLOWDOWN_S = 1.0
SHRINK_RUNS = 3
LOW_MARGIN_FRACTION = 0.25
