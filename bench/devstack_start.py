"""Benchmark: the devstack's cold and warm start time, and the memory its servers use.

Run on demand (`make bench`); prints figures, asserts nothing. Uses its own devstack directory
and free ports, so it never touches a running stack; the blocks cache is emptied for the cold
run so generation and promtool are measured too.

    .venv/bin/python bench/devstack_start.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.settings import load_settings  # noqa: E402
from devstack.process import free_port  # noqa: E402
from devstack.stack import Devstack  # noqa: E402


def rss_mib(pid: int) -> float:
    """Resident memory of `pid` and its children (noida-db, promtool...), in MiB."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave the stack and its dir behind")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    os.environ["VIGIE_DEVSTACK__DIR"] = str(directory)
    for name in ("PROMETHEUS", "ALERTMANAGER", "ELASTICSEARCH", "PAGERDUTY", "WORLD_EXPORTER"):
        os.environ[f"VIGIE_DEVSTACK__PORTS__{name}"] = str(free_port())
    os.chdir(ROOT)
    stack = Devstack(load_settings())
    try:
        t0 = time.perf_counter()
        report = stack.up()
        cold = time.perf_counter() - t0
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings_s.items())
        print(f"cold start: {cold:6.1f} s   ({steps})")
        for note in report.notes:
            print(f"  {note}")
        print("memory (RSS) per component:")
        total = 0.0
        for name in stack.procs.names():
            managed = stack.procs.running(name)
            if managed is None:
                continue
            mib = rss_mib(managed.pid)
            total += mib
            print(f"  {name:<16} {mib:8.1f} MiB")
        print(f"  {'total':<16} {total:8.1f} MiB")
        t0 = time.perf_counter()
        stack.up()
        print(f"warm up (already running): {time.perf_counter() - t0:6.1f} s")
        stack.down()
        t0 = time.perf_counter()
        stack.up()
        print(f"warm start (after down, cached world): {time.perf_counter() - t0:6.1f} s")
        size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
        print(f"devstack directory: {size / 2**20:.0f} MiB")
    finally:
        if not args.keep:
            stack.down()
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
