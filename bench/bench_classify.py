"""Speed of classification on the corpus: parsed mail/s and end to end (parse + classify).

Prints ratios against a baseline measured in the same run (reading the bytes and folding
the text), never asserted.  Run: python bench/bench_classify.py [CORPUS_DIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from mailbot.classify import classify, load_ruleset
from mailbot.classify.textnorm import fold
from mailbot.config import PROJECT_DIR
from mailbot.parse import parse_mail


def _rate(n: int, fn) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_DIR / "tests/data/corpus"
    raws = [p.read_bytes() for p in sorted((corpus / "eml").glob("*.eml"))]
    rules = load_ruleset(PROJECT_DIR / "rules")
    parsed = [parse_mail(r) for r in raws]
    rounds = 5

    def baseline() -> None:
        for m in parsed:
            fold(m.subject + m.new_text)

    def classify_all() -> None:
        for m in parsed:
            classify(m, rules)

    def end_to_end() -> None:
        for r in raws:
            classify(parse_mail(r), rules)

    base = _rate(rounds, baseline) * len(parsed)
    cls = _rate(rounds, classify_all) * len(parsed)
    e2e = _rate(2, end_to_end) * len(raws)
    print(f"mails: {len(raws)}")
    print(f"baseline fold: {base:,.0f} mails/s")
    print(f"classify (parsed): {cls:,.0f} mails/s (target ≥ 2,000; {cls / base:.3f}× baseline)")
    print(f"parse + classify: {e2e:,.0f} mails/s (target ≥ 400; {e2e / base:.3f}× baseline)")


if __name__ == "__main__":
    main()
