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


class OpenAICompatibleClient:
    """What an adapter of an OpenAI-compatible server holds: its base URL, the model, and a synchronous
    client (the adapters run in a thread) that sends ``api_key`` as a bearer token."""

    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), headers={"authorization": f"Bearer {api_key}"}
        )

    def close(self) -> None:
        self._client.close()


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
