#!/usr/bin/env python3
"""Writes the log pipeline's sample input (examples/log-pipeline/data/sample.log).

Deterministic (fixed seed), so the checked-in file and the demo's expected counts only change
when this script does. Lines mix four level spellings (`INFO`, `level=warn`, `[E]`, ...),
secrets the redaction stage must hide (passwords, API keys, bearer tokens), and debug noise the
last stage drops.
"""
import random
import sys
from pathlib import Path

LINES = 5000
SEED = 20261125

LEVELS = [  # (canonical level, spellings seen in the wild), weighted below
    ("DEBUG", ["DEBUG", "debug", "level=debug", "[D]"]),
    ("INFO", ["INFO", "info", "level=info", "[I]"]),
    ("WARN", ["WARN", "WARNING", "level=warn", "[W]"]),
    ("ERROR", ["ERROR", "error", "level=error", "[E]"]),
]
WEIGHTS = [35, 40, 15, 10]
SERVICES = ["api", "auth", "billing", "cache", "db", "gateway", "mailer", "scheduler"]
EVENTS = [
    "request served path=/v1/items/{n} status=200 ms={ms}",
    "request served path=/v1/users/{n} status=404 ms={ms}",
    "cache miss key=item:{n}",
    "cache hit key=user:{n}",
    "retrying upstream call attempt={a}",
    "connection pool size={n} idle={a}",
    "job {n} finished in {ms}ms",
    "slow query took {ms}ms rows={n}",
    "payment {n} declined code=51",
    "session {n} expired",
]
SECRETS = [
    "login ok user=u{n} password={pw}",
    "calling partner api_key={key} region=eu",
    "forwarding header Authorization: Bearer {tok}",
    "reset link sent token={tok} user=u{n}",
]


def rand_token(rng, n):
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(rng.choice(alphabet) for _ in range(n))


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else (
        Path(__file__).resolve().parent.parent / "examples/log-pipeline/data/sample.log")
    rng = random.Random(SEED)
    lines = []
    for i in range(LINES):
        level, spellings = rng.choices(LEVELS, weights=WEIGHTS)[0]
        spelling = rng.choice(spellings)
        service = rng.choice(SERVICES)
        fields = {"n": rng.randint(1, 99999), "ms": rng.randint(1, 2500), "a": rng.randint(1, 5),
                  "pw": rand_token(rng, 12), "key": "sk_" + rand_token(rng, 24),
                  "tok": rand_token(rng, 32)}
        template = rng.choice(SECRETS) if rng.random() < 0.08 else rng.choice(EVENTS)
        ts = f"2026-11-25T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
        lines.append(f"{ts} {spelling} {service}: {template.format(**fields)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} lines to {out}")


if __name__ == "__main__":
    main()
