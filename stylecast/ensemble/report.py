"""The report's Ensemble section: the members beside the ensemble, and what the ensemble gains.

:func:`render_ensemble_section` reads the ensemble's ``model.json`` (its members), each
member's ``metrics.csv`` (how it trained) and, once the run is evaluated, the ``ensemble``
block of ``evaluation.json`` (every member's test accuracy with its interval, McNemar's test
against the ensemble, the gain over the member kept on validation). It draws the members'
accuracy figure into the run (``ensemble_members.png``) and returns one self-contained HTML
fragment, or None for a single model.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import pandas as pd

from stylecast.errors import RunError
from stylecast.fileio import read_json
from stylecast.run import ModelInfo, RunFolder

__all__ = ["render_ensemble_section"]


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _ci(ci: Any, scale: float = 1.0, fmt: str = ".3f") -> str:
    if not ci:
        return ""
    return f' <span class="ci">{ci[0] * scale:{fmt}}–{ci[1] * scale:{fmt}}</span>'


def _training_rows(run: RunFolder, info: ModelInfo) -> list[dict[str, Any]]:
    rows = []
    for m in info.members:
        folder = RunFolder(run.path / m.path)
        epochs, seconds = None, None
        if folder.metrics_file.is_file():
            df = pd.read_csv(folder.metrics_file)
            epochs = int((df["phase"] == "finetune").sum()) if "phase" in df else len(df)
            seconds = float(pd.to_numeric(df.get("seconds"), errors="coerce").sum())
        rows.append({"member": m, "epochs": epochs, "seconds": seconds})
    return rows


def _figure(run: RunFolder, block: dict[str, Any]) -> str | None:
    from stylecast.plots import save_figure
    from stylecast.plots.ensemble import plot_member_accuracy

    path = save_figure(plot_member_accuracy(block), run.path / RunFolder.ENSEMBLE_FIGURE)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _gain_sentence(block: dict[str, Any]) -> str:
    g = block["gain"]
    ci = g.get("ci_points")
    ci_txt = f" (95% interval {ci[0]:+.1f} to {ci[1]:+.1f})" if ci else ""
    verdict = (
        "more than chance at the 5% level"
        if g["pvalue"] < 0.05
        else "within what chance alone gives on this many images"
    )
    return (
        f"Against <strong>{_esc(g['over'])}</strong>, the member one would have kept without "
        f"an ensemble (the best on validation), the ensemble gains <strong>{g['points']:+.1f} "
        f"points</strong> of test accuracy{ci_txt}: right on {g['ensemble_only_right']} images "
        f"that member gets wrong, wrong on {g['member_only_right']} it gets right (McNemar "
        f"p = {g['pvalue']:.3g}, {verdict}). The members average "
        f"{block['mean_member_accuracy']:.3f}."
    )


def _member_table(block: dict[str, Any]) -> str:
    head = (
        "<tr><th>member</th><th>seed</th><th class='l'>recipe</th><th>val accuracy</th>"
        "<th>test accuracy</th><th>log loss</th><th>ECE</th><th>temperature</th>"
        "<th>McNemar p vs ensemble</th></tr>"
    )
    body = []
    for k, r in enumerate(block["members"]):
        val = r.get("val_accuracy")
        kept = " (kept on validation)" if k == block["best_member"] else ""
        body.append(
            f"<tr><td>{_esc(r['member'])}{kept}</td><td>{_esc(r.get('seed', ''))}</td>"
            f"<td class='l'>{_esc(r.get('variant') or 'as configured')}</td>"
            f"<td>{'–' if val is None else f'{val:.3f}'}</td>"
            f"<td>{r['accuracy']:.3f}{_ci(r['accuracy_ci'])}</td><td>{r['log_loss']:.3f}</td>"
            f"<td>{r['ece']:.3f}</td><td>{r['temperature']:.2f}</td><td>{r['pvalue']:.3g}</td>"
            "</tr>"
        )
    e = block["ensemble"]
    body.append(
        f"<tr class='sum'><td>ensemble</td><td></td><td class='l'>mean of calibrated "
        f"probabilities</td><td></td><td>{e['accuracy']:.3f}{_ci(e['accuracy_ci'])}</td>"
        f"<td>{e['log_loss']:.3f}</td><td>{e['ece']:.3f}</td><td></td><td></td></tr>"
    )
    return f"<div class='scroll'><table>{head}{''.join(body)}</table></div>"


def _num(x: float | int | None, fmt: str) -> str:
    return "–" if x is None else format(x, fmt)


def _training_table(rows: list[dict[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{_esc(r['member'].path)}</td><td>{_esc(r['member'].seed)}</td>"
        f"<td class='l'>{_esc(r['member'].variant or 'as configured')}</td>"
        f"<td>{_num(r['epochs'], 'd')}</td><td>{_num(r['member'].val_accuracy, '.3f')}</td>"
        f"<td>{_num(None if r['seconds'] is None else r['seconds'] / 60, '.1f')} min</td></tr>"
        for r in rows
    )
    return (
        "<div class='scroll'><table><tr><th>member</th><th>seed</th><th class='l'>recipe</th>"
        "<th>fine-tune epochs</th><th>best val accuracy</th><th>training time</th></tr>"
        f"{body}</table></div>"
    )


def render_ensemble_section(run: str | RunFolder) -> str | None:
    """The Ensemble section of an ensemble run's report (None for a single model)."""
    folder = run if isinstance(run, RunFolder) else RunFolder(run)
    try:
        info = folder.model_info()
    except RunError:
        return None
    if not info.is_ensemble:
        return None
    n = len(info.members)
    parts = [
        f"<p>This model is an <strong>ensemble of {n} members</strong>, each an ordinary run "
        f"trained on the same split (in <code>{_esc(folder.path)}/members/</code>). A photo's "
        "probabilities are the mean of the members' probabilities, each member first "
        "calibrated by its own temperature (fitted on validation and kept only when it "
        f"helps). Predicting costs {n} times one model: <code>stylecast distill "
        f"{_esc(folder.path)} --out STUDENT</code> trains one model on the ensemble's soft "
        "labels.</p>"
    ]
    ev = None
    if folder.evaluation_file.is_file():
        try:
            ev = read_json(folder.evaluation_file)
        except (OSError, ValueError):
            ev = None
    block = ev.get("ensemble") if isinstance(ev, dict) else None
    if isinstance(block, dict) and block.get("members"):
        parts.append(f"<p>{_gain_sentence(block)}</p>")
        src = _figure(folder, block)
        if src:
            parts.append(
                f'<figure><img alt="members and ensemble accuracy" src="{src}"><figcaption>'
                "Test accuracy of every member and of the ensemble, with 95% Wilson "
                "intervals; orange: the member kept on validation.</figcaption></figure>"
            )
        parts.append(_member_table(block))
    else:
        parts.append(
            '<p class="note">Not evaluated yet: <code>stylecast evaluate '
            f"{_esc(folder.path)}</code> scores every member and the ensemble on the test "
            "split.</p>"
        )
    parts.append("<h3>How the members trained</h3>")
    parts.append(_training_table(_training_rows(folder, info)))
    return "\n".join(parts)
