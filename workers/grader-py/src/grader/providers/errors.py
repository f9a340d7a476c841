"""How a provider call can fail, in the two classes the job handles differently.

- :class:`ProviderUnavailable` is transient: HTTP 429 (honouring ``Retry-After``), 408, 5xx, a timeout,
  a connection error, or an open circuit breaker. The job retries it with backoff (``grader.jobs``).
- :class:`ProviderRejected` is permanent: any other 4xx (a bad key, an unknown model). Retrying
  cannot help; the submission fails with ``provider_rejected``.

An answer the provider did send but that is unusable (not JSON, missing criteria, a score off the
0.5 grid or out of range) is a :class:`grader.scoring.ScoringError` ``invalid_grade``: permanent too.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

MAX_RETRY_AFTER_S = 3600.0
"""A provider asking for more than an hour is not believed beyond an hour."""


class ProviderUnavailable(Exception):
    """Transient: try again later. ``retry_after_s`` is the provider's (or the breaker's) wish, if any."""

    def __init__(self, provider: str, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.retry_after_s = retry_after_s


class BreakerOpen(ProviderUnavailable):
    """The provider's circuit breaker is open: no call was made. Deferred, never counted as a try."""


class ProviderRejected(Exception):
    """Permanent: the provider refused the request (4xx other than 408/429)."""

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(message)
        self.provider = provider


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """The provider's ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), in seconds."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms", "").strip()
    if raw_ms:
        try:
            return min(MAX_RETRY_AFTER_S, max(0.0, float(raw_ms) / 1000))
        except ValueError:
            pass
    raw = lowered.get("retry-after", "").strip()
    if not raw:
        return None
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(raw)))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, when.timestamp() - (time.time() if now is None else now)))


def classify_status(provider: str, status: int, headers: Mapping[str, str], body: str) -> Exception | None:
    """The error an HTTP status means (None for 2xx)."""
    if 200 <= status < 300:
        return None
    snippet = body[:300]
    if status == 429 or status == 408 or status >= 500:
        return ProviderUnavailable(provider, f"HTTP {status}: {snippet}", retry_after_seconds(headers))
    return ProviderRejected(provider, f"HTTP {status}: {snippet}")
