"""Benchmark parse_mail on the corpus against stdlib parsers measured in the same run.

Usage: python bench/bench_parse.py [--rounds N]
Prints mails/s for each parser and the ratios of parse_mail to the baselines.
"""

from __future__ import annotations

import argparse
import email
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from mailbot.parse import parse_mail

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus" / "eml"


def _compat32(raw: bytes) -> object:
    return email.message_from_bytes(raw, policy=policy.compat32)


def _default(raw: bytes) -> object:
    msg = email.message_from_bytes(raw, policy=policy.default)
    # policy.default parses headers lazily; touch what a real consumer would read.
    for name in ("subject", "from", "to", "date", "message-id"):
        msg.get(name)
    body = msg.get_body(("plain", "html"))
    if body is not None:
        body.get_content()
    return msg


def _rate(fn: Callable[[bytes], object], raws: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for raw in raws:
            fn(raw)
        best = min(best, time.perf_counter() - t0)
    return len(raws) / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5, help="passes over the corpus; best is kept")
    args = ap.parse_args()
    raws = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    for raw in raws:  # warm caches and imports
        parse_mail(raw)
    rates = {
        "email compat32 (parse only)": _rate(_compat32, raws, args.rounds),
        "email policy.default (+headers, body)": _rate(_default, raws, args.rounds),
        "mailbot parse_mail": _rate(parse_mail, raws, args.rounds),
    }
    print(f"{len(raws)} mails, best of {args.rounds} rounds")
    for name, rate in rates.items():
        print(f"  {name:40s} {rate:8.0f} mails/s")
    ours = rates["mailbot parse_mail"]
    for name, rate in rates.items():
        if name != "mailbot parse_mail":
            print(f"  parse_mail / {name:40s} = {ours / rate:.2f}")


if __name__ == "__main__":
    main()
