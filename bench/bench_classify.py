"""Speed of classification on the corpus: parse only, classify only, and end to end.

Single process, one core.  Each quantity is measured in several interleaved rounds and the best
round is kept (the machine is shared: the best round is the least disturbed one).  Ratios are
against two baselines measured in the same run, so they stay comparable on a busy machine:
`email.message_from_bytes(policy=default)` (MIME parsing by the standard library) and a trivial
regex scan of the same texts (lower-cased subject + text).  Never asserted.  Issue-4 targets:
classify ≥ 2,000 mails/s on parsed mail, `mailbot classify` end to end ≥ 400 mails/s.

Run: python bench/bench_classify.py [CORPUS_DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import email
import re
import time
from collections.abc import Callable
from email import policy
from pathlib import Path

from mailbot.classify import classify, load_ruleset
from mailbot.config import PROJECT_DIR
from mailbot.parse import parse_mail

TARGET_CLASSIFY = 2000.0
TARGET_END_TO_END = 400.0
_TRIVIAL = re.compile(r"khi[eê]u n[aạ]i|thi h[aà]nh [aá]n")


def _rate(items: int, fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return items / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=PROJECT_DIR / "tests/data/corpus")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    raws = [p.read_bytes() for p in sorted((args.corpus / "eml").glob("*.eml"))]
    rules = load_ruleset(PROJECT_DIR / "rules")
    parsed = [parse_mail(r) for r in raws]
    texts = [(m.subject + "\n" + m.text).lower() for m in parsed]
    n = len(raws)
    for m in parsed:  # warm caches (compiled regexes, routers) before timing
        classify(m, rules)

    runs: dict[str, Callable[[], object]] = {
        "baseline: email.message_from_bytes": lambda: [
            email.message_from_bytes(r, policy=policy.default) for r in raws
        ],
        "baseline: one regex scan per mail": lambda: [_TRIVIAL.search(t) for t in texts],
        "parse only (parse_mail)": lambda: [parse_mail(r) for r in raws],
        "classify only (parsed mail)": lambda: [classify(m, rules) for m in parsed],
        "end to end (parse + classify)": lambda: [classify(parse_mail(r), rules) for r in raws],
    }
    best = dict.fromkeys(runs, 0.0)
    for _ in range(args.rounds):
        for name, fn in runs.items():
            best[name] = max(best[name], _rate(n, fn))

    mime = best["baseline: email.message_from_bytes"]
    scan = best["baseline: one regex scan per mail"]
    print(f"corpus: {n} mails, best of {args.rounds} rounds, one process")
    for name, rate in best.items():
        print(f"  {name:38} {rate:>10,.0f} mails/s  {rate / mime:7.3f}× MIME  "
              f"{rate / scan:7.4f}× scan")
    cls = best["classify only (parsed mail)"]
    e2e = best["end to end (parse + classify)"]
    for label, rate, target in (("classify only", cls, TARGET_CLASSIFY),
                                ("end to end", e2e, TARGET_END_TO_END)):
        verdict = "met" if rate >= target else "NOT met"
        print(f"target {label}: ≥ {target:,.0f} mails/s → {rate:,.0f} ({rate / target:.2f}× "
              f"target, {verdict})")


if __name__ == "__main__":
    main()
