"""The issue-4 targets, measured by evaluate() on the held-out mail (written independently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.classify import load_ruleset
from mailbot.config import PROJECT_DIR
from mailbot.evaluate import TARGETS, evaluate

HOLDOUT = Path(__file__).parent / "data" / "holdout"


@pytest.fixture(scope="module")
def report():
    return evaluate(HOLDOUT, load_ruleset(PROJECT_DIR / "rules"))


def test_request_type_accuracy(report):
    assert report.type_accuracy >= TARGETS["type_accuracy"], report.confusion


def test_no_mail_owed_a_reply_is_filed_as_machine_or_spam(report):
    assert report.human_as_machine == []


def test_machine_mail_and_spam_are_caught(report):
    assert report.machine_spam_caught >= TARGETS["machine_spam_caught"]


def test_unit_accuracy(report):
    assert report.unit_accuracy >= TARGETS["unit_accuracy"]


def test_judgment_refs_exact(report):
    assert report.judgment_refs_accuracy >= TARGETS["judgment_refs_accuracy"]


def test_threads_are_linked(report):
    assert report.thread_accuracy >= 0.95
    assert report.targets_met
