"""bench/run.py's volume comparison: each round's full-volume lookup against that round's
10,000-guarantee lookup, each first divided by its own pings; the median of the rounds."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench import run  # needs the bench folder importable (its own modules)


def _runs(full, small):
    return {
        "full": [{"round": i, "ratio": r} for i, r in enumerate(full)],
        "small": [{"round": i, "ratio": r} for i, r in enumerate(small)],
    }


def test_each_round_is_compared_with_itself_before_the_median():
    # A machine that slowed down after round 1, both sets alike: the pairs say "equal" in
    # every round; the ratio of the two medians would have said 0.20 / 0.25 = 0.80.
    result = run.volume_ratio(_runs(full=[0.25, 0.20, 0.20], small=[0.25, 0.20, 0.25]))
    assert result["full_over_small"] == 1.0
    assert result["full_over_small_min"] == 0.8
    assert result["full_over_small_max"] == 1.0
    assert result["ratio_to_ping"] == {"full": 0.2, "small": 0.25}


def test_a_slower_full_volume_shows_in_every_round():
    result = run.volume_ratio(_runs(full=[0.18, 0.17, 0.16], small=[0.20, 0.20, 0.20]))
    assert result["full_over_small"] == 0.85
    assert (result["full_over_small_min"], result["full_over_small_max"]) == (0.8, 0.9)


def test_a_round_whose_small_set_served_nothing_gives_no_answer():
    result = run.volume_ratio(_runs(full=[0.2, 0.2, 0.2], small=[0.0, 0.2, 0.25]))
    assert (result["full_over_small_min"], result["full_over_small_max"]) == (0.8, 1.0)
    assert result["full_over_small"] == 0.9
