"""The time budget: one trial's expected time, and how many trials fit."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

from stylecast.tuning.budget import (
    TrialEstimate,
    budget_text,
    defaults_line,
    estimate_trial,
    eta_text,
)


def test_how_many_trials_fit_is_said_before_and_after_the_first() -> None:
    est = TrialEstimate(300.0, "timed from a fine-tune epoch over 96 images here")
    text = budget_text(est, left=3600.0, trials=None, workers=1)
    assert text.startswith(
        "one trial of the default configuration takes about 5.0 min here (timed from a "
        "fine-tune epoch over 96 images here); about 12 trials fit in the 60 min budget"
    )
    assert "this command runs 4" in budget_text(est, left=3600.0, trials=4, workers=1)
    # Two workers: each trial twice as long, two at a time; as many fit.
    two = budget_text(est, left=3600.0, trials=None, workers=2)
    assert "(about 10.0 min each on 2 workers at once)" in two and "about 12 trials fit" in two
    assert budget_text(est, left=None, trials=6, workers=1).endswith(
        "; 6 trials: about 30 min (fewer with pruning)"
    )

    ft = SimpleNamespace(number=0, duration=dt.timedelta(seconds=600))
    deadline = time.time() + 3000.5
    assert defaults_line(ft, deadline, 1) == (
        "trial 0 (defaults) took 10.0 min; about 5 more trials fit in the remaining budget (50m00s)"
    )
    assert "about 10 more trials" in defaults_line(ft, deadline, 2)
    assert defaults_line(ft, None, 1) == "trial 0 (defaults) took 10.0 min"
    assert eta_text(None, 10, 4, 30.0) == " | 4/10, ETA 3m00s"
    assert eta_text(time.time() + 60.5, 10, 4, 30.0) == " | 4/10, ETA 1m00s"  # the budget ends it
    assert eta_text(time.time() + 90.5, None, 4, 30.0) == " | 4 done, 1m30s of the budget left"


def test_a_continued_study_estimates_from_its_trials() -> None:
    def trial(secs: float, state: str) -> SimpleNamespace:
        duration = dt.timedelta(seconds=secs)
        return SimpleNamespace(state=SimpleNamespace(name=state), duration=duration)

    done = [trial(100, "COMPLETE"), trial(300, "COMPLETE"), trial(200, "COMPLETE")]
    study = SimpleNamespace(trials=[*done, trial(5, "PRUNED")])
    # No short run is timed: the study's completed trials measured it already.
    est = estimate_trial(study, None, None, splits_csv=None, cache=None)  # type: ignore[arg-type]
    assert est == TrialEstimate(200.0, "the median of 3 completed trial(s)")
