"""Benchmark: how long `vigie ask` takes, in process (warm) and as a fresh process (cold).

Run on demand with the devstack up; prints figures, asserts nothing. Goal: p50 < 1 s warm.

- warm: `Engine.ask` (what `vigie ask` calls) over ~20 typical questions in English and French,
  "now" pinned to the incident day at 10:00, after one warm-up pass; p50/p95/max per ask and
  the slowest questions, with the mode and the backend time of each answer.
- cold: wall time of a whole `vigie ask --json` process (imports, settings, clients, answer).

    .venv/bin/python bench/ask_latency.py [--runs 3] [--cold 3] [--now RFC3339]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.cli.ask import parse_now  # noqa: E402
from bot.engine.engine import build_engine  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from devstack.stack import Devstack  # noqa: E402

QUESTIONS = (
    "which service has the highest P99 latency since this morning?",
    "what is the error rate of checkout over the last hour?",
    "compare memory of namespace prod this week vs last week",
    "who is on call for payments?",
    "what is firing?",
    "show me errors in payment-gateway logs since 08:00",
    "why is payment-gateway slow?",
    "cpu usage of the prod namespace today",
    "throughput of api-gateway in the last 6 hours",
    "are there open incidents?",
    "Quel service a le plus de latence P99 depuis ce matin ?",
    "Compare la consommation mémoire du namespace prod cette semaine vs la semaine dernière",
    "qui est d'astreinte pour payments ?",
    "quelles alertes sont en cours ?",
    "taux d'erreur de checkout depuis une heure",
    "pourquoi payment-gateway est lent ?",
    "combien de redémarrages de pods en prod aujourd'hui ?",
    "erreurs dans les logs de payment-gateway depuis 8h",
    "saturation du pool de connexions PostgreSQL ce matin",
    "incidents ouverts en ce moment ?",
)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def warm(now: datetime, runs: int) -> None:
    """Engine.ask in this process, after one warm-up pass over every question."""
    settings = Devstack(load_settings()).client_settings()
    services = build_services(settings)
    try:
        started = time.perf_counter()
        engine = build_engine(services)
        build_ms = (time.perf_counter() - started) * 1000
        modes: dict[str, str] = {}
        sourced: set[str] = set()
        backend_ms: dict[str, float] = {}
        started = time.perf_counter()
        for question in QUESTIONS:
            engine.ask(question, now=now)
        warmup_ms = (time.perf_counter() - started) * 1000
        per_question: dict[str, list[float]] = {q: [] for q in QUESTIONS}
        for _ in range(runs):
            for question in QUESTIONS:
                started = time.perf_counter()
                answer = engine.ask(question, now=now)
                per_question[question].append((time.perf_counter() - started) * 1000)
                modes[question] = answer.mode
                if answer.evidence:
                    sourced.add(question)
                backend_ms[question] = sum(v for k, v in answer.timings.items() if k != "total_ms")
    finally:
        services.close()
    samples = [ms for values in per_question.values() for ms in values]
    print(f"== warm: Engine.ask, {len(QUESTIONS)} questions x {runs} runs, now = {now}")
    print(f"build_engine {build_ms:.0f} ms; warm-up pass {warmup_ms:.0f} ms in all")
    print(
        f"per ask: p50 {percentile(samples, 0.5):.0f} ms, p95 {percentile(samples, 0.95):.0f} ms, "
        f"max {max(samples):.0f} ms (goal: p50 < 1000 ms)"
    )
    print(f"answered with evidence: {len(sourced)}/{len(QUESTIONS)} (others: a refusal or a help)")
    print("slowest questions (median ms, backend time summed over tools, mode):")
    ranked = sorted(per_question, key=lambda q: statistics.median(per_question[q]), reverse=True)
    for question in ranked[:5]:
        print(
            f"  {statistics.median(per_question[question]):6.0f}  "
            f"{backend_ms[question]:6.0f}  {modes[question]:<8} {question}"
        )


def cold(now: datetime, runs: int) -> None:
    """A fresh `vigie ask --json` process each time: what a person waits for at a shell."""
    vigie = ROOT / ".venv" / "bin" / "vigie"
    command = [str(vigie), "ask", "--json", "--now", now.isoformat(), QUESTIONS[10]]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        times.append((time.perf_counter() - started) * 1000)
        if result.returncode != 0:
            print(f"vigie ask failed ({result.returncode}): {result.stderr.strip()}")
            return
    shown = ", ".join(f"{t:.0f}" for t in times)
    median = statistics.median(times)
    print(f"== cold: one `vigie ask --json` process: {shown} ms (median {median:.0f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--runs", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--cold", type=int, default=3, help="fresh `vigie ask` processes")
    parser.add_argument("--now", help="pinned now (RFC 3339); default: incident day 10:00")
    args = parser.parse_args()
    settings = load_settings()
    anchor = Devstack(settings).anchor()
    if args.now:
        now = parse_now(args.now, settings.tz)
    elif anchor is not None:
        now = anchor.at(0, "10:00")
    else:
        print("no devstack world: run `vigie devstack up` first (or pass --now)")
        return 1
    try:
        warm(now, args.runs)
    except ImportError as exc:
        print(f"the engine cannot be built yet: {exc}")
        return 1
    cold(now, args.cold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
