"""Reads spoken answers from where the API stored them (apps/api/src/storage): a local directory
shared with the API (``AUDIO_STORAGE=local``, ``AUDIO_DIR``), or an S3-compatible bucket
(``AUDIO_STORAGE=s3``, ``S3_*``). The worker only reads; the API writes and deletes.

S3 requests are signed with AWS Signature Version 4 (:func:`sigv4_headers`, plain hashlib/hmac), so
the worker needs no AWS SDK. A missing object is permanent (``audio_unreadable``); a connection
error, a 5xx or a refused signature or credential (401/403: a configuration fault, not the recording's)
is transient (a :class:`ConnectionError`, which the job retries).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import httpx

from grader.scoring.base import ScoringError

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class AudioStoreConfigError(ValueError):
    """A missing or invalid storage variable; the message names it."""


@dataclass(frozen=True, slots=True)
class AudioStoreSettings:
    kind: str = "local"
    directory: str = ".data/audio"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AudioStoreSettings:
        kind = env.get("AUDIO_STORAGE", "").strip() or "local"
        if kind not in ("local", "s3"):
            raise AudioStoreConfigError(f"AUDIO_STORAGE must be 'local' or 's3', got {kind!r}")
        s = cls(
            kind=kind,
            directory=env.get("AUDIO_DIR", "").strip() or ".data/audio",
            s3_endpoint=env.get("S3_ENDPOINT", "").strip(),
            s3_bucket=env.get("S3_BUCKET", "").strip(),
            s3_region=env.get("S3_REGION", "").strip() or "us-east-1",
            s3_access_key_id=env.get("S3_ACCESS_KEY_ID", "").strip(),
            s3_secret_access_key=env.get("S3_SECRET_ACCESS_KEY", "").strip(),
        )
        if kind == "s3":
            for name, value in (
                ("S3_ENDPOINT", s.s3_endpoint),
                ("S3_BUCKET", s.s3_bucket),
                ("S3_ACCESS_KEY_ID", s.s3_access_key_id),
                ("S3_SECRET_ACCESS_KEY", s.s3_secret_access_key),
            ):
                if not value:
                    raise AudioStoreConfigError(f"{name} is required when AUDIO_STORAGE=s3")
            if urlsplit(s.s3_endpoint).scheme not in ("http", "https"):
                raise AudioStoreConfigError(f"S3_ENDPOINT must be an http(s) URL, got {s.s3_endpoint!r}")
        return s


class AudioStore(Protocol):
    async def read(self, key: str) -> bytes: ...


def _missing(key: str) -> ScoringError:
    return ScoringError("audio_unreadable", f"the recording {key!r} is not in storage")


class LocalAudioStore:
    def __init__(self, directory: str) -> None:
        self.root = Path(directory).resolve()

    async def read(self, key: str) -> bytes:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # a key never leaves the directory
            raise _missing(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise _missing(key) from None


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    now: dt.datetime,
    payload_sha256: str = EMPTY_SHA256,
    service: str = "s3",
) -> dict[str, str]:
    """The headers that sign one request (AWS Signature Version 4, header form), for a URL whose
    path is already URI-encoded and that has no query string."""
    parts = urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    host = parts.netloc
    headers = {"host": host, "x-amz-content-sha256": payload_sha256, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            "",
            "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
            signed,
            payload_sha256,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_access_key}".encode(), day), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-content-sha256": payload_sha256,
        "x-amz-date": amz_date,
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        ),
    }


class S3AudioStore:
    """Path-style GETs (``{endpoint}/{bucket}/{key}``), which every S3-compatible server accepts."""

    def __init__(self, s: AudioStoreSettings, timeout_s: float = 60.0) -> None:
        self.s = s
        self.timeout_s = timeout_s

    def url_of(self, key: str) -> str:
        return f"{self.s.s3_endpoint.rstrip('/')}/{quote(self.s.s3_bucket)}/{quote(key, safe='/')}"

    async def read(self, key: str) -> bytes:
        url = self.url_of(key)
        headers = sigv4_headers(
            "GET",
            url,
            self.s.s3_region,
            self.s.s3_access_key_id,
            self.s.s3_secret_access_key,
            dt.datetime.now(dt.UTC),
        )
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                response = await client.get(url, headers=headers)
        except httpx.TransportError as exc:
            raise ConnectionError(f"object storage unreachable: {exc!r}") from None
        if response.status_code == 404:
            raise _missing(key)
        if response.status_code >= 500 or response.status_code in (408, 429):
            raise ConnectionError(f"object storage answered {response.status_code}")
        if response.status_code in (401, 403):
            # Our credentials or signature, not the learner's recording: retried like an outage (and
            # logged with the server's reason) rather than failing the answer as unreadable.
            code = re.search(r"<Code>([^<]+)</Code>", response.text)
            raise ConnectionError(
                f"object storage refused the worker's request: HTTP {response.status_code}"
                f" {code.group(1) if code else ''}".rstrip()
            )
        if response.status_code != 200:
            raise ScoringError(
                "audio_unreadable", f"object storage refused the read: HTTP {response.status_code}"
            )
        return response.content


def audio_store(s: AudioStoreSettings) -> AudioStore:
    return S3AudioStore(s) if s.kind == "s3" else LocalAudioStore(s.directory)
