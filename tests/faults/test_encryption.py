"""Server-side encryption as configured (lake.py): every object-creating request asks for it
when BUILDOUT_S3_SSE is set, none does when it is not; multipart uploads included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from buildout_tracker.devtools.s3_faults import FaultProxy
from buildout_tracker.lake import Bucket, make_client, sse_args
from buildout_tracker.settings import S3Settings

CREATING = ("PutObject", "CopyObject", "CreateMultipartUpload")
KEY_ID = "arn:aws:kms:us-east-1:111122223333:key/unit-test"


def _exercise(lake: Bucket, tmp_path: Path) -> None:
    lake.put_bytes("enc/a.json", b"{}")
    lake.put_json("enc/b.json", {"x": 1})
    lake.copy("enc/a.json", "enc/c.json")
    big = tmp_path / "page.html"
    big.write_bytes(os.urandom(9 * 1024 * 1024))  # over s3transfer's 8 MB: a multipart upload
    lake.upload_file("enc/page.html", str(big))
    small = tmp_path / "small.html"
    small.write_text("<html></html>")
    lake.upload_file("enc/small.html", str(small))


@pytest.mark.parametrize("mode", ["aws:kms", "AES256", ""])
def test_every_creating_request_carries_the_configured_encryption(
    proxy: FaultProxy,
    through_proxy: tuple[Bucket, Bucket],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    mode: str,
) -> None:
    monkeypatch.setenv("BUILDOUT_S3_SSE", mode)
    if mode == "aws:kms":
        monkeypatch.setenv("BUILDOUT_S3_SSE_KMS_KEY_ID", KEY_ID)
    else:
        monkeypatch.delenv("BUILDOUT_S3_SSE_KMS_KEY_ID", raising=False)
    lake = Bucket(through_proxy[1].name, make_client(S3Settings.from_env()))
    _exercise(lake, tmp_path)
    creating = [r for r in proxy.requests if r.action in CREATING]
    assert {r.action for r in creating} == set(CREATING), [r.action for r in proxy.requests]
    expected = {
        "aws:kms": {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": KEY_ID,
        },
        "AES256": {"x-amz-server-side-encryption": "AES256"},
        "": {},
    }[mode]
    for r in creating:
        assert r.sse == expected, (r.action, r.key, r.sse)
    parts = [r for r in proxy.requests if r.action == "UploadPart"]
    assert parts and all(not r.sse for r in parts), "parts inherit the upload's encryption"
    assert lake.get_bytes("enc/c.json") == b"{}"


def test_a_key_id_without_kms_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDOUT_S3_SSE", "AES256")
    monkeypatch.setenv("BUILDOUT_S3_SSE_KMS_KEY_ID", KEY_ID)
    with pytest.raises(ValueError, match="BUILDOUT_S3_SSE_KMS_KEY_ID"):
        sse_args()
    monkeypatch.setenv("BUILDOUT_S3_SSE", "rot13")
    with pytest.raises(ValueError, match="BUILDOUT_S3_SSE"):
        sse_args()
