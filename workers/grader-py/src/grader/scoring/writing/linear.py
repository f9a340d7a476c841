"""Small pure-Python numerics for fitting and applying the writing model: ridge regression on
standardised features and a monotone piecewise-linear map. No numpy at run time (or at fit time)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean_sd(column: Sequence[float]) -> tuple[float, float]:
    m = math.fsum(column) / len(column)
    var = math.fsum((x - m) ** 2 for x in column) / len(column)
    return m, math.sqrt(var) or 1.0


def solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Solves ``a x = b`` by Gaussian elimination with partial pivoting (a is small and SPD here)."""
    n = len(b)
    m = [[*row[:], b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        p = m[col][col]
        if abs(p) < 1e-12:
            raise ValueError("singular system")
        for r in range(n):
            if r != col and m[r][col] != 0.0:
                f = m[r][col] / p
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    return [m[i][n] / m[i][i] for i in range(n)]


def ridge(rows: Sequence[Sequence[float]], y: Sequence[float], lam: float) -> tuple[float, list[float]]:
    """Ridge regression on already standardised rows: (intercept, coefficients)."""
    k = len(rows[0])
    y_mean = math.fsum(y) / len(y)
    xtx = [[0.0] * k for _ in range(k)]
    xty = [0.0] * k
    for row, target in zip(rows, y, strict=True):
        t = target - y_mean
        for i in range(k):
            ri = row[i]
            xty[i] += ri * t
            xi = xtx[i]
            for j in range(i, k):
                xi[j] += ri * row[j]
    for i in range(k):
        for j in range(i):
            xtx[i][j] = xtx[j][i]
        xtx[i][i] += lam * len(rows)
    return y_mean, solve(xtx, xty)


def piecewise(x: float, knots: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear through ``knots`` (sorted by x), extended linearly beyond both ends."""
    i = 1
    while i < len(knots) - 1 and x > knots[i][0]:
        i += 1
    (x0, y0), (x1, y1) = knots[i - 1], knots[i]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 != x0 else y1
