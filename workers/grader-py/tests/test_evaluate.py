"""The agreement harness's maths, on examples computed by hand, and a small end-to-end run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from writing_fixtures import FIXTURES

from grader.evaluate import (
    agreement,
    band_of_cefr,
    band_of_score,
    cefr_rank,
    main,
    quadratic_weighted_kappa,
    ranks,
    spearman,
)


def test_spearman_by_hand() -> None:
    # d = (0, 1, 1, 0): rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert ranks([10, 20, 20, 30]) == [1.0, 2.5, 2.5, 4.0]


def test_qwk_by_hand() -> None:
    # observed disagreements: (1,2) and (2,1), weight 1/4 each -> 0.5 (in counts)
    # expected: sum_ij w_ij * hist_a[i] * hist_b[j] / n with hists (1,1,2) -> 1.375; kappa = 1 - 0.5/1.375
    assert quadratic_weighted_kappa([0, 1, 2, 2], [0, 2, 2, 1], 3) == pytest.approx(7 / 11)
    assert quadratic_weighted_kappa([0, 1, 2], [0, 1, 2], 3) == pytest.approx(1.0)


def test_agreement_by_hand() -> None:
    a = agreement([6.0, 6.5, 4.0, 9.0], [6.0, 7.5, 4.5, 8.0])
    assert a.exact == 0.25  # only 6.0 = 6.0
    assert a.adjacent == 0.5  # 6.0/6.0 and 4.0/4.5
    assert a.mean_difference == pytest.approx((0 - 1 - 0.5 + 1) / 4)
    assert a.n == 4


def test_bands_and_cefr() -> None:
    assert [band_of_score(x) for x in (3.5, 4.0, 5.5, 6.0, 8.0, 8.5)] == [0, 1, 1, 2, 2, 3]
    assert [band_of_cefr(x) for x in ("A2.ii", "B1.i", "B2", "C1.ii", "C2+", "N")] == [0, 1, 2, 3, 3, 3]
    assert cefr_rank("A1.i") < cefr_rank("A1.ii") < cefr_rank("B1") < cefr_rank("N")


def test_harness_runs_on_a_jsonl_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        {
            "text": text,
            "prompt": task.prompt,
            "min_words": task.min_words,
            "part": task.part,
            "overall": (lo + hi) / 2,
        }
        for task, text, lo, hi in FIXTURES.values()
    ]
    rows[0]["cefr"] = "A2"
    rows[2]["cefr"] = "C1"
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(FIXTURES)} answers graded" in out
    assert "overall" in out and "qwk(0.5)" in out
    assert "spearman with the CEFR order" in out
    assert "p95" in out
