"""The HTTP call every OpenAI-compatible adapter makes (the chat grader, the speech-to-text adapter).

One place turns what can go wrong on the wire into the two classes of :mod:`grader.providers.errors`:
a timeout or a connection failure is :class:`ProviderUnavailable`, and a non-2xx status is classified
by :func:`classify_status` (transient with the provider's ``Retry-After``, or permanent). What a 2xx
body means stays with each adapter.
"""

from __future__ import annotations

from typing import Any

import httpx

from grader.providers.errors import ProviderUnavailable, classify_status


def bearer_client(api_key: str, timeout_s: float) -> httpx.Client:
    """A synchronous client (the adapters run in a thread) that sends ``api_key`` as a bearer token."""
    return httpx.Client(timeout=httpx.Timeout(timeout_s), headers={"authorization": f"Bearer {api_key}"})


def post(client: httpx.Client, provider: str, url: str, **kwargs: Any) -> httpx.Response:
    """``client.post(url, **kwargs)``, its 2xx response, or the classified error raised."""
    try:
        response = client.post(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(provider, f"timed out: {exc!r}") from None
    except httpx.HTTPError as exc:  # connection refused / reset, protocol errors
        raise ProviderUnavailable(provider, f"connection failed: {exc!r}") from None
    error = classify_status(provider, response.status_code, response.headers, response.text)
    if error is not None:
        raise error
    return response
