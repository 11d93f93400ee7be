"""Where generated files go: a folder (tests, local runs) or the landing bucket."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from buildout_tracker.lake import Bucket


@runtime_checkable
class Sink(Protocol):
    def put(self, key: str, data: bytes) -> None: ...


class DirSink:
    """Writes each key as a file under root (the landing zone's layout, as folders)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DirSink({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key escapes the sink's folder: {key!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def put(self, key: str, data: bytes) -> None:
        self._path(key).write_bytes(data)

    def put_file(self, key: str, path: Path) -> None:
        shutil.copyfile(path, self._path(key))


class BucketSink:
    """Puts each key into an S3 bucket through the project's one S3 client."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket

    def __repr__(self) -> str:
        return f"BucketSink({self.bucket!r})"

    def put(self, key: str, data: bytes) -> None:
        self.bucket.put_bytes(key, data)

    def put_file(self, key: str, path: Path) -> None:
        self.bucket.upload_file(key, str(path))


class MemorySink:
    """Keeps files in a dict (tests and in-process pipelines)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.files[key] = data
