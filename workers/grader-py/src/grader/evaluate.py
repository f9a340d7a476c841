"""The agreement harness: how closely the configured grading provider agrees with human raters.

    python -m grader.evaluate answers.jsonl            # or answers.csv
    python -m grader.evaluate answers.jsonl --provider offline --min-words 250 --part writing_task_2

Each row is one answer: ``text`` (or ``answer``), and optionally ``prompt``, ``part``, ``min_words``
and ``skill`` (default writing). Human judgements: ``overall`` (or ``score``) and/or any criterion
column (``task_fulfilment``, ``organisation``, ``vocabulary``, ``grammar``, ...) on the 0-10 scale,
and/or ``cefr`` (A1 ... C2, sub-levels such as ``B1.ii`` and ``N`` for native writers allowed).

Printed: Spearman, quadratic weighted kappa on the 0.5 grid and on the VSTEP bands, exact and
adjacent (within 0.5) agreement and the mean difference (machine - human) per criterion; against
CEFR labels, Spearman with the CEFR order, the share inside the label's VSTEP band and a per-level
table; word count alone as the floor; and the p50 / p95 scoring time. The maths are the pure
functions below (unit-tested on hand-computed examples).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.contracts.constants import CEFR_CUTOFFS, SPEAKING_CRITERIA, WRITING_CRITERIA
from grader.scoring import TaskSpec, get_scorer
from grader.scoring.base import Assessment, count_words

# --- the maths ------------------------------------------------------------------------------------


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("need two equally long series of at least 2 values")
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = math.fsum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sxx = math.fsum((a - mx) ** 2 for a in x)
    syy = math.fsum((b - my) ** 2 for b in y)
    return sxy / math.sqrt(sxx * syy) if sxx and syy else 0.0


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rho: Pearson on ranks (ties averaged)."""
    return pearson(ranks(x), ranks(y))


def quadratic_weighted_kappa(a: Sequence[int], b: Sequence[int], categories: int) -> float:
    """Cohen's kappa with quadratic weights over categories 0..categories-1."""
    if len(a) != len(b) or not a:
        raise ValueError("need two equally long, non-empty ratings")
    n = len(a)
    hist_a = [0] * categories
    hist_b = [0] * categories
    observed = 0.0
    for i, j in zip(a, b, strict=True):
        hist_a[i] += 1
        hist_b[j] += 1
        observed += (i - j) ** 2
    expected = math.fsum(
        (i - j) ** 2 * hist_a[i] * hist_b[j] / n for i in range(categories) for j in range(categories)
    )
    return 1.0 - observed / expected if expected else 1.0


def half_steps(score: float) -> int:
    """0.0..10.0 on the 0.5 grid -> 0..20."""
    return max(0, min(20, round(score * 2)))


BAND_NAMES = ("below B1", "B1", "B2", "C1+")


def band_of_score(score: float) -> int:
    """VSTEP band index of an overall score: how many of the contract's CEFR cut-offs it reaches
    (4.0 / 6.0 / 8.5 today): <4.0 -> 0, 4.0-5.5 -> 1, 6.0-8.0 -> 2, >=8.5 -> 3."""
    return sum(1 for _, cutoff in CEFR_CUTOFFS if score >= cutoff)


CEFR_ORDER = ("A1", "A2", "B1", "B2", "C1", "C2")


def cefr_rank(label: str) -> float:
    """Orderable value of a CEFR label: A1=0 ... C2=10, '.i'/'.ii' sub-levels 0/1 apart, N (native) 12."""
    text = label.strip().upper()
    if text in ("N", "NATIVE"):
        return 12.0
    base = text[:2]
    if base not in CEFR_ORDER:
        raise ValueError(f"not a CEFR label: {label!r}")
    value = 2.0 * CEFR_ORDER.index(base)
    if text.endswith(".II") or text.endswith("+"):
        value += 1.0
    return value


def band_of_cefr(label: str) -> int:
    rank = cefr_rank(label)
    return 0 if rank < 4 else 1 if rank < 6 else 2 if rank < 8 else 3


def cefr_group(label: str) -> str:
    text = label.strip().upper()
    return "N" if text in ("N", "NATIVE") else text[:2]


@dataclass(frozen=True, slots=True)
class Agreement:
    n: int
    spearman: float
    qwk_half: float
    qwk_band: float
    exact: float
    adjacent: float
    mean_difference: float


def agreement(machine: Sequence[float], human: Sequence[float]) -> Agreement:
    """Agreement of two lists of 0-10 scores (the human ones may be off the 0.5 grid)."""
    m = [half_steps(x) for x in machine]
    h = [half_steps(x) for x in human]
    n = len(m)
    return Agreement(
        n=n,
        spearman=spearman(machine, human),
        qwk_half=quadratic_weighted_kappa(m, h, 21),
        qwk_band=quadratic_weighted_kappa(
            [band_of_score(x) for x in machine], [band_of_score(x) for x in human], 4
        ),
        exact=sum(1 for a, b in zip(m, h, strict=True) if a == b) / n,
        adjacent=sum(1 for a, b in zip(m, h, strict=True) if abs(a - b) <= 1) / n,
        mean_difference=statistics.fmean(a - b for a, b in zip(machine, human, strict=True)),
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..1)."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(len(ordered) - 1, lo + 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- reading and grading --------------------------------------------------------------------------

SCORE_COLUMNS = ("overall", *dict.fromkeys((*WRITING_CRITERIA, *SPEAKING_CRITERIA)))
"""``overall`` and every criterion of either skill (the contract's lists, each name once)."""


@dataclass(slots=True)
class Row:
    text: str
    task: TaskSpec
    cefr: str | None
    human: dict[str, float] = field(default_factory=dict)


def _number(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def read_rows(path: Path, defaults: TaskSpec) -> list[Row]:
    records: list[dict[str, Any]]
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
    else:
        with path.open(encoding="utf-8") as fh:
            records = [json.loads(line) for line in fh if line.strip()]
    rows: list[Row] = []
    for r in records:
        text = r.get("text", r.get("answer"))
        if text is None:
            raise ValueError(f"{path}: a row has no 'text' or 'answer'")
        min_words = _number(r.get("min_words"))
        task = TaskSpec(
            skill=r.get("skill") or defaults.skill,
            part=r.get("part") or defaults.part,
            prompt=r.get("prompt") or defaults.prompt,
            min_words=int(min_words) if min_words is not None else defaults.min_words,
        )
        human = {c: v for c in SCORE_COLUMNS if (v := _number(r.get(c))) is not None}
        if "overall" not in human and (v := _number(r.get("score"))) is not None:
            human["overall"] = v
        cefr = r.get("cefr") or None
        rows.append(Row(str(text), task, str(cefr) if cefr else None, human))
    return rows


@dataclass(frozen=True, slots=True)
class Graded:
    row: Row
    assessment: Assessment
    seconds: float


def grade_all(rows: Sequence[Row], provider: str) -> list[Graded]:
    scorer = get_scorer(provider)
    out: list[Graded] = []
    for row in rows:
        t0 = time.perf_counter()
        a = scorer.score(row.task, row.text)
        out.append(Graded(row, a, time.perf_counter() - t0))
    return out


# --- the report -----------------------------------------------------------------------------------


def _fmt(a: Agreement) -> str:
    return (
        f"n={a.n:<5d} spearman={a.spearman:6.3f}  qwk(0.5)={a.qwk_half:6.3f}  qwk(band)={a.qwk_band:6.3f}  "
        f"exact={100 * a.exact:5.1f}%  adjacent={100 * a.adjacent:5.1f}%  mean diff={a.mean_difference:+.2f}"
    )


def report(graded: Sequence[Graded]) -> str:
    lines: list[str] = []
    times = [g.seconds * 1000 for g in graded]
    lines.append(f"{len(graded)} answers graded")
    lines.append(
        f"scoring time per answer: p50 {percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms"
    )

    with_human = [g for g in graded if g.row.human]
    if with_human:
        lines.append("")
        lines.append("Against the human scores (machine - human):")
        for c in SCORE_COLUMNS:
            pairs = [
                (g.assessment.overall if c == "overall" else _criterion(g.assessment, c), g.row.human[c])
                for g in with_human
                if c in g.row.human
            ]
            pairs = [(m, h) for m, h in pairs if m is not None]
            if len(pairs) >= 2:
                ag = agreement([m for m, _ in pairs if m is not None], [h for _, h in pairs])
                lines.append(f"  {c:21s} {_fmt(ag)}")
        hw = [
            (float(count_words(g.row.text)), g.row.human["overall"])
            for g in with_human
            if "overall" in g.row.human
        ]
        if len(hw) >= 2:
            floor = spearman([w for w, _ in hw], [h for _, h in hw])
            lines.append(f"  floor: word count alone, spearman={floor:.3f}")

    labelled = [(g, g.row.cefr) for g in graded if g.row.cefr]
    if labelled:
        order = [cefr_rank(label) for _, label in labelled]
        pred = [g.assessment.overall for g, _ in labelled]
        wc = [float(count_words(g.row.text)) for g, _ in labelled]
        bands_h = [band_of_cefr(label) for _, label in labelled]
        bands_m = [band_of_score(p) for p in pred]
        in_band = sum(1 for a, b in zip(bands_m, bands_h, strict=True) if a == b) / len(labelled)
        adjacent = sum(1 for a, b in zip(bands_m, bands_h, strict=True) if abs(a - b) <= 1) / len(labelled)
        lines.append("")
        lines.append("Against the CEFR labels:")
        lines.append(
            f"  spearman with the CEFR order   {spearman(pred, order):.3f}   "
            f"(word count alone: {spearman(wc, order):.3f})"
        )
        lines.append(
            f"  inside the label's VSTEP band  {100 * in_band:.1f}%   "
            f"(within one band: {100 * adjacent:.1f}%)"
        )
        lines.append(f"  qwk on the 4 VSTEP bands       {quadratic_weighted_kappa(bands_m, bands_h, 4):.3f}")
        lines.append("")
        lines.append("  level     n   mean   sd    in band   " + "  ".join(f"{b:>8s}" for b in BAND_NAMES))
        groups: dict[str, list[tuple[float, int]]] = {}
        for (_g, label), p, bh in zip(labelled, pred, bands_h, strict=True):
            groups.setdefault(cefr_group(label), []).append((p, bh))
        for level in sorted(groups, key=lambda lv: cefr_rank(lv) if lv != "N" else 99):
            items = groups[level]
            ps = [p for p, _ in items]
            share = sum(1 for p, bh in items if band_of_score(p) == bh) / len(items)
            dist = [sum(1 for p in ps if band_of_score(p) == b) / len(ps) for b in range(4)]
            sd = statistics.pstdev(ps) if len(ps) > 1 else 0.0
            lines.append(
                f"  {level:6s} {len(items):4d}  {statistics.fmean(ps):5.2f}  {sd:4.2f}   "
                f"{100 * share:5.1f}%   " + "  ".join(f"{100 * d:7.1f}%" for d in dist)
            )
    return "\n".join(lines)


def _criterion(a: Assessment, name: str) -> float | None:
    return next((c.score for c in a.criteria if c.criterion == name), None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agreement of the grading provider with human raters.")
    parser.add_argument("file", type=Path, help="answers as JSON lines (.jsonl/.json) or CSV")
    parser.add_argument("--provider", default="offline")
    parser.add_argument("--skill", default="writing", choices=("writing", "speaking"))
    parser.add_argument("--part", default="writing_task_2", help="task part for rows without one")
    parser.add_argument("--prompt", default="", help="task prompt for rows without one")
    parser.add_argument("--min-words", type=int, default=0, help="task minimum for rows without one")
    args = parser.parse_args(argv)
    rows = read_rows(args.file, TaskSpec(args.skill, args.part, args.prompt, args.min_words))
    if not rows:
        print("no answers in the file", file=sys.stderr)
        return 1
    print(report(grade_all(rows, args.provider)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
