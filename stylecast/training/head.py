"""The head phase: the classifier fitted as a well-regularised logistic regression on cached
pooled features of the frozen backbone (seconds per run once the features exist).

A linear head on fixed features is a convex problem with one answer for each strength of
its L2 penalty. Stochastic training for a fixed number of epochs (AdamW with dropout, as
before) stopped short of that answer: 0.689 validation accuracy on fpi-season where a
logistic regression on the same features reaches about 0.76. L-BFGS solves it, so the only
knob left is the penalty, and it is chosen on the validation split:

1. features of the training images (``feature_views - 1`` augmented views add extra
   rows) and of the validation images, from the feature cache;
2. standardise with the training rows' mean and standard deviation;
3. fit a multinomial logistic regression (scikit-learn, L-BFGS) for every ``C`` of
   :func:`c_grid` (``head_epochs`` values from 1e-4, strong regularisation, to 1e2, weak),
   each fit warm-started from the one before. Every ``C`` is one row of the history
   (``epoch`` = its index, ``lr`` = the ``C``), so :class:`TrainState` keeps the best
   (validation accuracy; a tie keeps the stronger penalty). The whole grid is always fitted
   (``patience`` does not apply; it costs seconds): validation accuracy is flat and noisy
   at strong penalties, and on a 400-image sample of fpi-season patience 3 stopped at
   ``C`` 1e-4 with 0.533 where the grid's best was 0.617;
4. fold the standardisation into the torch classifier (``W' = W / std``,
   ``b' = b - W' @ mean``): the saved model needs nothing new.

Head-only runs use this fit. A warmup run's head is still trained by AdamW
(:mod:`stylecast.training.warmup_head`): fine-tuning from the folded head scored 0.728 on
fpi-season's test split against 0.825 from the AdamW head, because the fold multiplies
low-variance features by 1/std and the fine-tuned backbone moves them.

What the configuration means here: ``head_epochs`` is the size of the ``C`` grid;
``balance`` ``weights`` (and ``sampler``, its equivalent for a full-batch solver) weigh
every row by inverse class frequency. ``head_lr``, ``weight_decay``, ``batch_size`` and the
model's dropout do not apply to a convex solver, and ``label_smoothing`` is ignored: the
L2 penalty already bounds the head's confidence, and ``evaluate`` fits a temperature.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from stylecast.errors import ConfigError, DataError
from stylecast.training.context import PhaseContext, Progress, epoch_row, evaluate_logits, fmt_eta
from stylecast.training.features import compute_features, weights_key
from stylecast.training.optim import class_weights
from stylecast.training.state import TrainState, is_better
from stylecast.training.warmup_head import adamw_head

__all__ = [
    "C_RANGE",
    "HeadProblem",
    "c_grid",
    "fit_head",
    "fit_standardiser",
    "fold_standardisation",
    "head_phase",
    "logistic_path",
]

C_RANGE = (1e-4, 1e2)
"""The inverse L2 strengths the grid spans, from strong to weak regularisation."""

_TOL = 1e-5
_MAX_ITER = 500
# A class absent from the training rows gets no weights and this bias: never predicted.
_ABSENT_BIAS = -30.0


def c_grid(n: int) -> np.ndarray:
    """``n`` values of ``C`` log-spaced over :data:`C_RANGE`; one value is its centre, 0.1."""
    lo, hi = C_RANGE
    if n <= 1:
        return np.array([np.sqrt(lo * hi)])
    return np.geomspace(lo, hi, n)


def fit_standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the columns of ``x`` (a constant column keeps scale 1,
    as in scikit-learn's ``StandardScaler``)."""
    x = np.asarray(x, dtype=np.float64)
    mean, std = x.mean(0), x.std(0)
    std[std < 1e-8 * np.maximum(1.0, np.abs(mean))] = 1.0
    return mean, std


def fold_standardisation(
    weight: np.ndarray, bias: np.ndarray, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weights of a linear layer on raw features equal to ``(weight, bias)`` on standardised
    ones: ``W (x - mean) / std + b = (W / std) x + (b - (W / std) @ mean)``."""
    folded = weight / std
    return folded, bias - folded @ mean


def logistic_path(
    xs: np.ndarray,
    y: np.ndarray,
    cs: np.ndarray,
    *,
    n_classes: int,
    sample_weight: np.ndarray | None = None,
) -> Iterator[tuple[float, np.ndarray, np.ndarray]]:
    """``(C, weight (n_classes, d), bias (n_classes,))`` of an L2 logistic regression on
    (standardised) ``xs`` for each ``C`` in ``cs``, each fit warm-started from the last.

    Two classes give scikit-learn's binary model ``z = w x + c``; as softmax logits it is
    ``(-z/2, z/2)``, so both classes' probabilities are exactly scikit-learn's.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y)
    if len(present) < 2:
        raise DataError(
            "the training split holds one class only; a classifier needs at least two: "
            "add images of the other classes or check the split"
        )
    lr = LogisticRegression(warm_start=True, tol=_TOL, max_iter=_MAX_ITER)
    for c in cs:
        lr.set_params(C=float(c))
        with warnings.catch_warnings():
            # The weakest penalties may stop at max_iter; validation decides whether they win.
            warnings.simplefilter("ignore", ConvergenceWarning)
            lr.fit(xs, y, sample_weight=sample_weight)
        coef, intercept = lr.coef_, lr.intercept_
        if len(present) == 2:
            coef = np.concatenate([-coef / 2, coef / 2])
            intercept = np.concatenate([-intercept / 2, intercept / 2])
        weight = np.zeros((n_classes, xs.shape[1]))
        bias = np.full(n_classes, _ABSENT_BIAS)
        weight[lr.classes_], bias[lr.classes_] = coef, intercept
        yield float(c), weight, bias


@dataclass(frozen=True)
class HeadProblem:
    """Features and labels the head is fitted and chosen on (raw, not standardised).

    ``class_weight`` (one per class) weighs every training row by its class.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    class_weight: np.ndarray | None = None


def fit_head(
    problem: HeadProblem,
    head: nn.Linear,
    state: TrainState,
    *,
    cs: np.ndarray,
    progress: Progress | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Fit ``head`` for every ``C`` of ``cs``: one history row per ``C`` through ``state``,
    which keeps the best; ``head`` ends with the best ``C``'s weights.

    Returns the best row. ``threads`` caps the BLAS threads of the solver.
    """
    from threadpoolctl import threadpool_limits

    pg = progress or Progress(False)
    mean, std = fit_standardiser(problem.x_train)
    xs = (problem.x_train - mean) / std
    x_tr, x_va = (np.asarray(a, dtype=np.float64) for a in (problem.x_train, problem.x_val))
    cw = problem.class_weight
    sw = None if cw is None else np.asarray(cw, dtype=np.float64)[problem.y_train]
    path = logistic_path(xs, problem.y_train, cs, n_classes=problem.n_classes, sample_weight=sw)
    best: dict[str, Any] | None = None
    best_params: dict[str, torch.Tensor] | None = None
    # The solver's matrix products are small: on a busy 2-core machine a second BLAS thread
    # made the whole grid 40x slower (0.3 s against 12 s for 2.5k x 1280 features).
    with threadpool_limits(limits=threads, user_api="blas"):
        for i in range(1, len(cs) + 1):
            t0 = time.perf_counter()
            c, w, b = next(path)
            w, b = fold_standardisation(w, b, mean, std)
            params = {
                "weight": torch.from_numpy(w).float(),
                "bias": torch.from_numpy(b).float(),
            }
            # Scored with the float32 weights the model keeps, on the raw features it sees.
            w64, b64 = params["weight"].double().numpy(), params["bias"].double().numpy()
            train_loss, _ = evaluate_logits(x_tr @ w64.T + b64, problem.y_train)
            val_loss, val_acc = evaluate_logits(x_va @ w64.T + b64, problem.y_val)
            head.load_state_dict(params)
            seconds = time.perf_counter() - t0
            row = epoch_row(
                "head",
                i,
                train_loss=train_loss,
                val_loss=val_loss,
                val_accuracy=val_acc,
                lr=c,
                images_per_s=len(x_tr) / max(seconds, 1e-9),
                seconds=seconds,
            )
            if is_better(row, best):
                best, best_params = row, params
            state.record(row)  # its early-stop answer is ignored: see the module docstring
            if i == 1 or i % 10 == 0 or i == len(cs):
                pg.line(_grid_line(row, len(cs), seconds * (len(cs) - i)))
    assert best is not None and best_params is not None  # internal invariant: cs is not empty
    head.load_state_dict(best_params)
    pg.line(
        f"[head] chose C {best['lr']:.3g} ({best['epoch']}/{len(cs)}): "
        f"val_acc {best['val_accuracy']:.3f}  val_loss {best['val_loss']:.4f}"
    )
    return best


def _grid_line(row: dict[str, Any], total: int, eta: float) -> str:
    return (
        f"[head] C {row['lr']:.3g} ({row['epoch']}/{total})  "
        f"train_loss {row['train_loss']:.4f}  val_loss {row['val_loss']:.4f}  "
        f"val_acc {row['val_accuracy']:.3f}  {row['seconds']:.2f}s  ETA {fmt_eta(eta)}"
    )


def head_phase(ctx: PhaseContext, state: TrainState) -> None:
    """Fit the classifier on cached pooled features of the frozen backbone."""
    cfg, model, pg = ctx.cfg, ctx.model, ctx.progress
    head = model.get_classifier()
    if not isinstance(head, nn.Linear):
        raise ConfigError(
            f"the head phase fits a linear classifier, but {cfg.model}'s is a "
            f"{type(head).__name__}: use --mode finetune with this backbone"
        )
    digest = weights_key(model, cfg)
    t0 = time.perf_counter()
    views = [
        compute_features(ctx, ctx.train_idx, view=v, weights_digest=digest)
        for v in range(cfg.feature_views if cfg.augment else 1)
    ]
    y_tr = np.tile(ctx.rd.y[ctx.train_idx], len(views))
    if cfg.mode == "warmup":
        # Fine-tuning starts from this head: the AdamW recipe (see warmup_head's docstring).

        adamw_head(ctx, state, np.concatenate(views), y_tr)
        return
    problem = HeadProblem(
        x_train=np.concatenate(views),
        y_train=y_tr,
        x_val=compute_features(ctx, ctx.val_idx, view=0, weights_digest=digest),
        y_val=ctx.rd.y[ctx.val_idx],
        n_classes=len(ctx.rd.classes),
        class_weight=(
            class_weights(ctx.rd.y[ctx.train_idx], len(ctx.rd.classes)).numpy()
            if cfg.balance in ("weights", "sampler")
            else None
        ),
    )
    pg.line(
        f"[head] features of {len(problem.x_train) + len(problem.x_val)} images ready in "
        f"{time.perf_counter() - t0:.1f}s (cached for later runs and trials)"
    )
    fit_head(
        problem,
        head,
        state,
        cs=c_grid(cfg.head_epochs),
        progress=pg,
        threads=cfg.num_threads or 1,
    )
