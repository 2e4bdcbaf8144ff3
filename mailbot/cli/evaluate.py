"""`mailbot eval CORPUS_DIR`: measure classification on a labelled corpus against the targets."""

from __future__ import annotations

from pathlib import Path

import click

from mailbot.classify import load_ruleset
from mailbot.cli._common import echo_json
from mailbot.cli.classify import rules_dir_for
from mailbot.evaluate import evaluate, format_report


@click.command("eval")
@click.argument("corpus", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.option("--rules", "rules", type=click.Path(file_okay=False), default=None,
              help="Thư mục quy tắc (mặc định: rules_dir trong cấu hình hoặc rules/ của dự án).")
@click.pass_context
def eval_cmd(ctx: click.Context, corpus: str, as_json: bool, rules: str | None) -> None:
    """Đánh giá phân loại trên bộ thư có nhãn (eml/ và manifest.jsonl)."""
    rep = evaluate(Path(corpus), load_ruleset(rules_dir_for(ctx, rules)))
    if as_json:
        echo_json(rep.to_dict())
    else:
        click.echo(format_report(rep))


def register(group: click.Group) -> None:
    group.add_command(eval_cmd)
