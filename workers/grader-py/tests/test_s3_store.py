"""The worker's S3 reads against a server that CHECKS SigV4 signatures (moto's, in this process, with
IAM authentication switched on), and its signer against botocore's, the reference implementation that
moto verifies with and boto3 uses against AWS."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest

from grader.audio_store import AudioStoreSettings, S3AudioStore, sigv4_headers
from grader.scoring.base import ScoringError

# moto routes a request by the service in the Authorization header's credential scope; before
# authentication is switched on, the signature itself is not checked.
IAM_SETUP_AUTH = (
    "AWS4-HMAC-SHA256 Credential=setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0"
)
BUCKET = "vstep-audio-test"


def _xml(text: str, tag: str) -> str:
    found = re.search(f"<{tag}>([^<]+)</{tag}>", text)
    assert found, text
    return found.group(1)


@pytest.fixture(scope="module")
def signing_s3() -> Iterator[AudioStoreSettings]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with httpx.Client(base_url=endpoint) as c:

            def iam(action: str, **params: str) -> str:
                r = c.post(
                    "/",
                    data={"Action": action, "Version": "2010-05-08", **params},
                    headers={"authorization": IAM_SETUP_AUTH},
                )
                assert r.status_code == 200, r.text
                return r.text

            iam("CreateUser", UserName="grader")
            key = iam("CreateAccessKey", UserName="grader")
            policy = (
                '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
            )
            iam("PutUserPolicy", UserName="grader", PolicyName="s3", PolicyDocument=policy)
            assert c.put(f"/{BUCKET}").status_code == 200
            settings = AudioStoreSettings(
                kind="s3",
                s3_endpoint=endpoint,
                s3_bucket=BUCKET,
                s3_access_key_id=_xml(key, "AccessKeyId"),
                s3_secret_access_key=_xml(key, "SecretAccessKey"),
            )
            # Objects are written (unsigned, as authentication is still off) before it is switched on.
            for name, body in OBJECTS.items():
                assert c.put(f"/{BUCKET}/{_quote(name)}", content=body).status_code == 200
            r = c.post("/moto-api/reset-auth", content=b"0", headers={"content-type": "text/plain"})
            assert r.status_code == 200, r.text
        yield settings
    finally:
        with httpx.Client() as c:  # moto's settings are process-wide: leave authentication off again
            c.post(f"{endpoint}/moto-api/reset-auth", content=b"inf", headers={"content-type": "text/plain"})
        server.stop()


def _quote(key: str) -> str:
    from urllib.parse import quote

    return quote(key, safe="/")


OBJECTS = {
    "audio/3f1c/9a7e.wav": b"RIFF" + bytes(range(256)) * 8,
    "audio/odd keys/a+b=c,d;(1)!*~é.webm": b"\x1aE\xdf\xa3 the key needs encoding",
}


@pytest.mark.parametrize("key", list(OBJECTS))
async def test_the_workers_signed_read_is_accepted(signing_s3: AudioStoreSettings, key: str) -> None:
    assert await S3AudioStore(signing_s3).read(key) == OBJECTS[key]


async def test_a_missing_object_is_permanent(signing_s3: AudioStoreSettings) -> None:
    with pytest.raises(ScoringError) as caught:
        await S3AudioStore(signing_s3).read("audio/3f1c/never-stored.wav")
    assert caught.value.code == "audio_unreadable"


async def test_a_wrong_secret_is_refused_so_the_check_is_on(signing_s3: AudioStoreSettings) -> None:
    key = "audio/3f1c/9a7e.wav"
    url = S3AudioStore(signing_s3).url_of(key)
    now = dt.datetime.now(dt.UTC)
    for access, secret, code in (
        (signing_s3.s3_access_key_id, signing_s3.s3_secret_access_key + "x", "SignatureDoesNotMatch"),
        ("AKIANOSUCHKEY0000000", signing_s3.s3_secret_access_key, "InvalidAccessKeyId"),
    ):
        headers = sigv4_headers("GET", url, "us-east-1", access, secret, now)
        async with httpx.AsyncClient() as c:
            r = await c.get(url, headers=headers)
        assert r.status_code == 403
        assert f"<Code>{code}</Code>" in r.text
    wrong = AudioStoreSettings(**{**_fields(signing_s3), "s3_secret_access_key": "not-the-secret"})
    # A refused signature is the deployment's fault, not the recording's: retried, never audio_unreadable.
    with pytest.raises(ConnectionError, match="HTTP 403 SignatureDoesNotMatch"):
        await S3AudioStore(wrong).read(key)


def _fields(s: AudioStoreSettings) -> dict[str, str]:
    return {f: getattr(s, f) for f in AudioStoreSettings.__dataclass_fields__}


@pytest.mark.parametrize(
    ("endpoint", "region", "key"),
    [
        ("http://127.0.0.1:9000", "us-east-1", "audio/3f1c/9a7e.wav"),
        ("https://s3.eu-central-1.amazonaws.com", "eu-central-1", "audio/odd keys/a+b=c,d;(1)!*~é.webm"),
        ("https://minio.internal", "ap-southeast-1", "audio/u/x.mp3"),
    ],
)
def test_the_signer_agrees_with_botocore(endpoint: str, region: str, key: str) -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    settings = AudioStoreSettings(
        kind="s3",
        s3_endpoint=endpoint,
        s3_bucket="b",
        s3_region=region,
        s3_access_key_id="AKIAIOSFODNN7EXAMPLE",
        s3_secret_access_key=secret,
    )
    url = S3AudioStore(settings).url_of(key)
    ours = sigv4_headers(
        "GET",
        url,
        region,
        "AKIAIOSFODNN7EXAMPLE",
        secret,
        dt.datetime(2026, 2, 28, 23, 59, 59, tzinfo=dt.UTC),
    )
    request = AWSRequest(
        method="GET",
        url=url,
        headers={
            "host": httpx.URL(url).netloc.decode(),
            "x-amz-date": ours["x-amz-date"],
            "x-amz-content-sha256": ours["x-amz-content-sha256"],
        },
    )
    request.context["timestamp"] = ours["x-amz-date"]
    auth = S3SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", secret), "s3", region)
    theirs = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    assert ours["authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260228/{region}/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={theirs}"
    )
