"""The hostile delivery at full size, by hand (too slow for the suite):

    .venv/bin/python -m tests.hostile.full_size [--big-gb 1.5] [--line-mb 100] [--extract]

Starts its own local lake (rclone, a free port, a temporary folder), writes the hostile
files to disk as streams (a 1.5 GB PO-lines file, a 100 MB line, 10,000 columns, NUL bytes,
a gzip stream named .csv, a JSON line nested 10,000 deep, a repeated header, odd key names,
folder markers), uploads them, and runs the week's ingest in a child process under
`/usr/bin/time -v` with the default limits; prints each file's outcome, the peak RSS and the
times. `--extract` also ingests the largest realistic extract (1M PO lines, about 170 MB),
accepted, for its peak RSS. `--src DIR` runs the child on the package in DIR/include (to
compare two versions of the code).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _child(env: dict[str, str], feeds: list[str], src: Path) -> tuple[dict, float, float]:
    """(summary, peak RSS in MB by /usr/bin/time, wall seconds)."""
    cmd = [sys.executable, "-m", "tests.hostile.run_week", "2026-W48", *feeds]
    timer = ["/usr/bin/time", "-v"] if Path("/usr/bin/time").exists() else []
    t0 = time.perf_counter()
    done = subprocess.run(
        [*timer, *cmd],
        cwd=ROOT,
        env={**os.environ, **env, "PYTHONPATH": f"{src / 'include'}:{ROOT}"},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stderr[-5000:], file=sys.stderr)
        raise SystemExit(f"the ingest failed (exit {done.returncode})")
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rss = int(m.group(1)) / 1024 if m else summary["peak_rss_mb"]
    return summary, rss, wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--big-gb", type=float, default=1.5)
    ap.add_argument("--line-mb", type=float, default=100)
    ap.add_argument("--extract", action="store_true")
    ap.add_argument("--src", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    sys.path.insert(0, str(ROOT))
    from buildout_tracker.devtools import procs
    from buildout_tracker.devtools.lake_server import LakeServer
    from buildout_tracker.lake import Bucket, make_client
    from tests.hostile.test_hostile_delivery import MARKERS, deliver_hostile_week

    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        server = LakeServer(
            root=Path(tmp) / "lake", host="127.0.0.1", port=procs.free_port(),
            access_key="hostile" + os.urandom(4).hex(), secret_key="hostile" + os.urandom(8).hex(),
        )  # fmt: skip
        server.start()
        try:
            env = {**server.env(), "BUILDOUT_PII_HMAC_KEY": "hostile-key",
                   "HOSTILE_FOLDER_MARKERS": "\n".join(MARKERS)}  # fmt: skip
            os.environ.update(env)
            client = make_client(server.settings())
            landing = Bucket(server.buckets[0], client)
            files = Path(tmp) / "files"
            files.mkdir()
            t0 = time.perf_counter()
            deliver_hostile_week(
                landing, files, big=int(args.big_gb * 1e9), line=int(args.line_mb * 1e6)
            )
            print(f"wrote and uploaded the hostile week in {time.perf_counter() - t0:.0f} s "
                  f"(po_lines_huge.csv {args.big_gb} GB, a line of {args.line_mb} MB)")  # fmt: skip
            for path in sorted(files.iterdir()):
                path.unlink()  # the lake holds them now
            summary, rss, wall = _child(
                env, ["reference", "fx_rates", "procurement", "milestones", "hiring"], args.src
            )
            for feed, rep in summary["feeds"].items():
                print(f"{feed}: blocked={rep['blocked']} {rep['block_reason'] or ''}")
                for key, f in rep["files"].items():
                    said = f["rule"] or ",".join(f"{r} ({n})" for r, n in f["top_rules"].items())
                    print(f"  {f['outcome']:<12} {key}: {f['rows_valid']}/{f['rows_in']} rows "
                          f"valid {said}; {(f['reason'] or '')[:110]}")  # fmt: skip
            print(f"ingest of the hostile week: peak RSS {rss:.0f} MB, {wall:.0f} s wall "
                  f"({summary['seconds']} s in the child)")  # fmt: skip
            if args.extract:
                from buildout_tracker.devtools.bench_ingest import write_synthetic_po_lines

                path = write_synthetic_po_lines(files / "extract.csv", 1_000_000)
                size = path.stat().st_size
                landing.delete_prefix("procurement/")  # the week's other feeds stay done
                landing.upload_file("procurement/2026-11-26/po_lines_full.csv", str(path))
                path.unlink()
                summary, rss, wall = _child(env, ["procurement"], args.src)
                f = summary["feeds"]["procurement"]["files"][
                    "procurement/2026-11-26/po_lines_full.csv"
                ]
                print(f"the largest realistic extract ({size / 1e6:.0f} MB, 1M lines): "
                      f"{f['outcome']}, {f['rows_valid']:,} rows valid; peak RSS {rss:.0f} MB, "
                      f"{wall:.0f} s wall")  # fmt: skip
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
