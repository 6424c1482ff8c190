"""Backfill the demo world's metrics history into a Prometheus TSDB with promtool.

The history is cut into chunks of at most one UTC day. Each chunk is written as one OpenMetrics
file (samples with timestamps, families contiguous, `# EOF`), turned into TSDB blocks by
`promtool tsdb create-blocks-from openmetrics`, and the blocks are cached under
`cache_dir/<fingerprint>-g<generator version>/<chunk>/` so a later start (or `reset`) only links
them into the data directory. Resolution is 1 minute from the UTC day before D (or the day before
creation) onwards, 5 minutes before that: enough for `rate(...[5m])` on the incident day and for
the 5-minute memory subqueries over two weeks, at a fraction of the samples.

Prometheus must not be running on `tsdb_dir` while blocks are placed; start it afterwards.
Overlapping blocks are accepted by Prometheus >= 2.39 without a flag.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from devstack.world.metrics import DAY, GENERATOR_VERSION, World
from devstack.world.scenario import Anchor

PROMTOOL = os.environ.get("VIGIE_PROMTOOL", "promtool")
FINE_RESOLUTION = 60
COARSE_RESOLUTION = 300
# promtool re-reads its whole input once per block range (after a first min/max pass); the flag
# is hidden in 2.42's help but honoured: 162h is one of the TSDB's exponential block ranges.
MAX_BLOCK_DURATION = "162h"
BLOCK_RANGE = 162 * 3600  # chunks never straddle a range boundary: exactly two reads each


@dataclass(frozen=True)
class Chunk:
    """Samples at multiples of `resolution` in [start, end), all within one UTC day."""

    start: int
    end: int
    resolution: int

    @property
    def key(self) -> str:
        return f"{self.start}-{self.end}-{self.resolution}"

    def times(self) -> np.ndarray:
        first = -(-self.start // self.resolution) * self.resolution
        return np.arange(first, self.end, self.resolution, dtype=np.int64)


@dataclass
class BackfillReport:
    """What a backfill did, for logs and the start-up benchmark."""

    series: int = 0
    samples: int = 0
    days_generated: int = 0
    days_reused: int = 0
    seconds: float = 0.0
    input_bytes: int = 0  # OpenMetrics text generated (0 for reused days)
    block_bytes: int = 0  # size of the blocks placed in the data directory
    blocks: int = 0
    chunks: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"metrics backfill: {self.series} series, {self.samples} samples, "
            f"{self.days_generated} days generated / {self.days_reused} reused, "
            f"{self.blocks} blocks ({self.block_bytes / 1e6:.1f} MB, input "
            f"{self.input_bytes / 1e6:.0f} MB) in {self.seconds:.1f} s"
        )


def fine_resolution_from(anchor: Anchor) -> int:
    """Unix time (an hour boundary) from which samples are 1 minute apart.

    At least the last 24 hours before creation and the whole incident day D: `rate(...[5m])`
    works there; older samples are 5 minutes apart, which halves the work of promtool.
    """
    boundary = min(anchor.created_at - timedelta(days=1), anchor.local_midnight(0))
    return int(boundary.timestamp()) // 3600 * 3600


def plan_chunks(anchor: Anchor, start: datetime, end: datetime) -> list[Chunk]:
    """Cut [start, end) at UTC midnights, block-range and resolution boundaries."""
    fine = fine_resolution_from(anchor)
    t0 = math.floor(start.timestamp())
    t1 = math.floor(end.timestamp())
    chunks = []
    while t0 < t1:
        stops = [(t0 // DAY + 1) * DAY, (t0 // BLOCK_RANGE + 1) * BLOCK_RANGE, t1]
        if t0 < fine:
            stops.append(fine)
        stop = min(stops)
        resolution = FINE_RESOLUTION if t0 >= fine else COARSE_RESOLUTION
        chunks.append(Chunk(t0, stop, resolution))
        t0 = stop
    return chunks


def write_openmetrics(world: World, chunk: Chunk, path: Path) -> tuple[list[int], int, int]:
    """Write one chunk; returns (indices of series with samples, sample count, bytes)."""
    times = chunk.times()
    if len(times) == 0:
        path.write_text("# EOF\n", encoding="utf-8")
        return [], 0, 6
    values = world.values(times)
    tails = [f" {t}\n" for t in times.tolist()]
    present: list[int] = []
    samples = 0
    written = 0
    with path.open("w", encoding="utf-8") as out:
        for family, kind, help_text, indices in world.families():
            header = False
            for i in indices:
                row = values[i]
                ok = ~np.isnan(row)
                n = int(ok.sum())
                if n == 0:
                    continue
                if not header:
                    text = f"# HELP {family} {help_text}\n# TYPE {family} {kind}\n"
                    out.write(text)
                    written += len(text)
                    header = True
                series = world.series[i]
                prefix = series.selector() + " "
                if n == len(row):
                    sel_tails = tails
                    vals = row
                else:
                    sel_tails = list(itertools.compress(tails, ok.tolist()))
                    vals = row[ok]
                if series.integer:
                    strs = map(str, vals.astype(np.int64).tolist())
                else:
                    strs = map(repr, np.round(vals, 3).tolist())
                # Interleave prefix/value/tail in C rather than formatting line by line.
                text = "".join(
                    itertools.chain.from_iterable(zip(itertools.repeat(prefix), strs, sel_tails))
                )
                out.write(text)
                written += len(text)
                present.append(i)
                samples += n
        out.write("# EOF\n")
        written += 6
    return present, samples, written


def _run_promtool(source: Path, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            PROMTOOL,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            f"--max-block-duration={MAX_BLOCK_DURATION}",
            "--quiet",
            str(source),
            str(outdir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"promtool failed on {source.name}: {result.stderr.strip()[-2000:]}")


def _build_chunk(world: World, chunk: Chunk, target: Path, work_dir: Path) -> dict[str, object]:
    """Generate and convert one chunk into `target` (atomically); returns its stats."""
    work_dir.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = Path(tempfile.mkdtemp(prefix=f".{chunk.key}-", dir=target.parent))
    source = work_dir / f"world-{chunk.key}.om"
    try:
        present, samples, written = write_openmetrics(world, chunk, source)
        if samples:
            _run_promtool(source, tmp_out)
        stats: dict[str, object] = {"series": present, "samples": samples, "input_bytes": written}
        (tmp_out / "stats.json").write_text(json.dumps(stats), encoding="utf-8")
        if target.exists():  # another run built it meanwhile
            shutil.rmtree(tmp_out)
        else:
            tmp_out.rename(target)
        return stats
    except BaseException:
        shutil.rmtree(tmp_out, ignore_errors=True)
        raise
    finally:
        source.unlink(missing_ok=True)


def _place(chunk_dir: Path, tsdb_dir: Path) -> tuple[int, int]:
    """Hard-link (or copy) a chunk's blocks into the data dir; returns (blocks, bytes)."""
    blocks = 0
    size = 0
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    for block in sorted(
        p for p in chunk_dir.iterdir() if p.is_dir() and (p / "meta.json").exists()
    ):
        dest = tsdb_dir / block.name
        size += sum(f.stat().st_size for f in block.rglob("*") if f.is_file())
        blocks += 1
        if dest.exists():
            continue
        try:
            shutil.copytree(block, dest, copy_function=os.link)
        except OSError:
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(block, dest)
    return blocks, size


def backfill(  # noqa: PLR0917 - the positional signature is the devstack's contract
    anchor: Anchor,
    tsdb_dir: Path,
    cache_dir: Path,
    work_dir: Path,
    start: datetime | None = None,
    end: datetime | None = None,
    jobs: int = 2,
    *,
    world: World | None = None,
) -> BackfillReport:
    """Fill [start, end) (default: history start to anchor creation) into `tsdb_dir`.

    Counters are functions of absolute time, so calling again later with `start` = the previous
    end fills a gap seamlessly. Prometheus must not be running on `tsdb_dir` meanwhile.
    """
    began = time.monotonic()
    start = start or anchor.history_start
    end = end or anchor.created_at
    report = BackfillReport()
    chunks = plan_chunks(anchor, start, end)
    root = cache_dir / f"{anchor.fingerprint()}-g{GENERATOR_VERSION}"
    todo = [c for c in chunks if not (root / c.key / "stats.json").exists()]
    if todo:
        world = world or World(anchor)
        # Counter offsets need every earlier day: compute them once, before the threads.
        world.values([todo[-1].start])

        def build(chunk: Chunk) -> dict[str, object]:
            return _build_chunk(world, chunk, root / chunk.key, work_dir)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            # Largest (1-minute) chunks first, so the two workers finish together.
            ordered = sorted(todo, key=lambda c: -len(c.times()))
            list(pool.map(build, ordered))
    present: set[int] = set()
    for chunk in chunks:
        stats = json.loads((root / chunk.key / "stats.json").read_text(encoding="utf-8"))
        series = stats["series"]
        present.update(int(i) for i in series)
        report.samples += int(stats["samples"])
        if chunk in todo:
            report.days_generated += 1
            report.input_bytes += int(stats["input_bytes"])
        else:
            report.days_reused += 1
        blocks, size = _place(root / chunk.key, tsdb_dir)
        report.blocks += blocks
        report.block_bytes += size
        report.chunks.append(chunk.key)
    report.series = len(present)
    report.seconds = time.monotonic() - began
    return report


def history_end(tsdb_dir: Path) -> datetime | None:
    """End of the data held in blocks of `tsdb_dir` (None without blocks).

    To catch up after the stack was down, stop Prometheus and call `backfill(start=this)`: on
    restart Prometheus drops WAL samples older than its newest block, and the gap fill
    regenerates them (the same values, counters being functions of absolute time).
    """
    ends = []
    for meta in tsdb_dir.glob("*/meta.json"):
        ends.append(int(json.loads(meta.read_text(encoding="utf-8"))["maxTime"]))
    if not ends:
        return None
    # Block maxTime is exclusive (last sample + 1 ms).
    return datetime.fromtimestamp(max(ends) / 1000, tz=UTC)


def main(argv: list[str] | None = None) -> int:
    """`python -m devstack.world.backfill --anchor world.json --tsdb DIR --cache DIR`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--anchor", type=Path, required=True)
    parser.add_argument("--tsdb", type=Path, required=True)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--start", type=datetime.fromisoformat, default=None)
    parser.add_argument("--end", type=datetime.fromisoformat, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    anchor = Anchor.load(args.anchor)
    start = args.start.astimezone(UTC) if args.start else None
    end = args.end.astimezone(UTC) if args.end else None
    report = backfill(anchor, args.tsdb, args.cache, args.work, start, end, args.jobs)
    print(report.summary(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
