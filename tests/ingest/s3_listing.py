"""A landing bucket that lists zero-byte "folder" objects as S3 and MinIO do.

An S3 console's "Create folder" writes a zero-byte object whose key ends in "/"; AWS S3 and
MinIO list it with its slash (under a delimiter listing, in the `Contents` of the folder it
names and as a common prefix of the folder above). The local lake (rclone serving a local
folder) cannot hold one: it writes a zero-byte file without the slash. This wrapper adds such
objects to the real bucket's listings, so that the ingest can be tested against what S3 lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from buildout_tracker.lake import Bucket, ObjectInfo

EMPTY_ETAG = "d41d8cd98f00b204e9800998ecf8427e"  # the MD5 of zero bytes


class WithFolderMarkers(Bucket):
    def __init__(self, bucket: Bucket, markers: Iterable[str]) -> None:
        super().__init__(bucket.name, bucket.client)
        self.markers = sorted(markers)
        assert all(m.endswith("/") for m in self.markers)
        self.reads: list[str] = []

    def _marker(self, key: str) -> ObjectInfo:
        return ObjectInfo(key, 0, EMPTY_ETAG)

    def iter(
        self,
        prefix: str = "",
        start_after: str | None = None,
        stop: Callable[[str], bool] | None = None,
    ) -> Iterator[ObjectInfo]:
        objs = [
            *super().iter(prefix, start_after=start_after),
            *(
                self._marker(m)
                for m in self.markers
                if m.startswith(prefix) and (start_after is None or m > start_after)
            ),
        ]
        for o in sorted(objs, key=lambda o: o.key):
            if stop is not None and stop(o.key):
                return
            yield o

    def iter_top(self, prefix: str = "") -> Iterator[ObjectInfo]:
        mine = [m for m in self.markers if m.startswith(prefix) and "/" not in m[len(prefix) :]]
        objs = [*super().iter_top(prefix), *(self._marker(m) for m in mine)]
        yield from sorted(objs, key=lambda o: o.key)

    def folders(self, prefix: str) -> Sequence[str]:
        names = set(super().folders(prefix))
        for m in self.markers:
            rest = m[len(prefix) :] if m.startswith(prefix) else None
            if rest and "/" in rest:
                names.add(rest.split("/", 1)[0])
        return sorted(names)

    def get_bytes(self, key: str) -> bytes:
        self.reads.append(key)
        return b"" if key in self.markers else super().get_bytes(key)
