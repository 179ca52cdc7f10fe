"""`python -m evals.calibrate`: fit the answer-status model on the DEV split only.

The extractive answerer decides answered / partial / refused from a logistic model of the
signals it measures for every question (relevance, best_dense, coverage, best_score,
type_missing: see StatusModelSettings). This runs the dev questions through the shipped
configuration, fits the model with L2 regularisation chosen by 5-fold cross-validation, picks
the two thresholds from the cross-validated probabilities, and prints the settings to put in
assistant/settings.py (the defaults) with a JSON report under evals/results/. The test split
is never read here.

- partial_at: the middle of the thresholds whose balanced accuracy (answerable answered, the
  rest refused; a partial answer counts as an answer) is within 0.01 of the best;
- answered_at: the lowest threshold at or above partial_at above which at least
  ``--precision`` of the dev questions are answerable (so 'answered' is said with confidence,
  and the band between the two is shown as 'partial').
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import assistant  # noqa: F401  (offline, no telemetry)
from assistant.settings import StatusModelSettings, load_settings
from evals.gold import load_splits
from evals.runner import with_temporary_store

SIGNALS = tuple(StatusModelSettings().weights)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, steps: int = 200) -> np.ndarray:
    """Weights (intercept last) of an L2-regularised logistic regression, by Newton's method
    on standardised features (the intercept is not penalised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.eye(xb.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(steps):
        p = _sigmoid(xb @ w)
        grad = xb.T @ (p - y) + penalty @ w
        hess = xb.T @ (xb * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hess + 1e-9 * np.eye(len(w)), grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def cross_validated(x: np.ndarray, y: np.ndarray, l2: float, folds: int, seed: int) -> np.ndarray:
    """Out-of-fold probabilities."""
    order = np.random.default_rng(seed).permutation(len(y))
    out = np.zeros(len(y))
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        mu, sd = x[train].mean(0), x[train].std(0) + 1e-9
        w = fit_logistic((x[train] - mu) / sd, y[train], l2)
        out[test] = _sigmoid(np.hstack([(x[test] - mu) / sd, np.ones((len(test), 1))]) @ w)
    return out


def balanced_accuracy(p: np.ndarray, y: np.ndarray, t: float) -> float:
    answered = p >= t
    return 0.5 * (answered[y == 1].mean() + (~answered[y == 0]).mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.calibrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index", choices=["fresh", "existing"], default="fresh")
    parser.add_argument("--settings", type=Path, help="YAML settings profile")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--precision", type=float, default=0.95)
    parser.add_argument("--out", type=Path, default=Path("evals/results"))
    args = parser.parse_args(argv)

    from assistant.core import build_assistant

    settings = load_settings(args.settings)
    gold = load_splits("dev")
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        if args.index == "fresh":
            from ingest.pipeline import run_ingest

            settings = with_temporary_store(settings, Path(tmp))
            run_ingest(settings, progress=False)
        bot = build_assistant(settings)
        rows, labels = [], []
        for q in gold:
            diag = bot.ask(q.question).diagnostics
            if not all(name in diag for name in SIGNALS):
                continue  # nothing retrieved: no signals to learn from
            rows.append([float(diag[name]) for name in SIGNALS])
            labels.append(1.0 if q.answerable else 0.0)
    x, y = np.array(rows), np.array(labels)

    grid = (0.01, 0.1, 1.0, 10.0, 100.0)
    scores = {}
    for l2 in grid:
        p = cross_validated(x, y, l2, args.folds, seed=0)
        scores[l2] = float(-np.mean(y * np.log(p + 1e-9) + (1 - y) * np.log(1 - p + 1e-9)))
    l2 = min(scores, key=scores.get)
    p_cv = cross_validated(x, y, l2, args.folds, seed=0)
    thresholds = np.round(np.arange(0.05, 0.96, 0.01), 2)
    # the middle of the plateau of near-best thresholds (within 0.01 of the best balanced
    # accuracy): the widest margin on both sides for questions unlike the dev ones
    accuracy = np.array([balanced_accuracy(p_cv, y, t) for t in thresholds])
    plateau = thresholds[accuracy >= accuracy.max() - 0.01]
    partial_at = float(np.round(np.median(plateau), 2))
    answered_at = partial_at
    for t in thresholds[thresholds >= partial_at]:
        above = p_cv >= t
        if above.sum() and y[above].mean() >= args.precision:
            answered_at = float(t)
            break

    mu, sd = x.mean(0), x.std(0) + 1e-9
    w = fit_logistic((x - mu) / sd, y, l2)
    weights = {name: round(float(w[i] / sd[i]), 3) for i, name in enumerate(SIGNALS)}
    bias = round(float(w[-1] - np.sum(w[:-1] * mu / sd)), 3)
    report = {
        "fitted_on": f"dev split, {len(y)} questions ({int(y.sum())} answerable)",
        "date": time.strftime("%Y-%m-%d"),
        "l2_by_cv_logloss": scores,
        "l2": l2,
        "plateau": [float(plateau.min()), float(plateau.max())],
        "cv_balanced_accuracy_at_partial": round(balanced_accuracy(p_cv, y, partial_at), 3),
        "cv_answerable_answered": round(float((p_cv[y == 1] >= partial_at).mean()), 3),
        "cv_unanswerable_refused": round(float((p_cv[y == 0] < partial_at).mean()), 3),
        "weights": weights,
        "bias": bias,
        "answered_at": answered_at,
        "partial_at": partial_at,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"calibration-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(
        f"\nreport: {path}\nput weights, bias, answered_at and partial_at into "
        "StatusModelSettings in assistant/settings.py",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
