"""`mailbot labels export DIR`: clerks' corrections as labelled mail for `mailbot eval`."""

from __future__ import annotations

from pathlib import Path

import click

from mailbot.cli._common import echo_json, get_db


@click.group("labels", help="Dữ liệu có nhãn từ các lần cán bộ sửa phân loại.")
def labels_group() -> None:
    pass


@labels_group.command("export", help=(
    "Ghi các hồ sơ cán bộ đã sửa phân loại hoặc đơn vị thành bộ thư có nhãn (eml/ và "
    "manifest.jsonl) trong THƯ_MỤC, để đánh giá bằng `mailbot eval THƯ_MỤC`. Tệp chứa dữ "
    "liệu cá nhân: chỉ chủ sở hữu được đọc."))
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--all", "all_dossiers", is_flag=True, help="Xuất mọi hồ sơ, không chỉ hồ sơ đã sửa.")
@click.option("--json", "as_json", is_flag=True, help="In kết quả dạng JSON.")
@click.pass_context
def export_cmd(ctx: click.Context, directory: Path, all_dossiers: bool, as_json: bool) -> None:
    from mailbot.labels import export_labels

    result = export_labels(get_db(ctx), directory, corrected_only=not all_dossiers)
    if as_json:
        echo_json({"directory": str(result.directory), "count": result.count})
    else:
        click.echo(f"Đã xuất {result.count} thư có nhãn vào {result.directory}. "
                   f"Đánh giá: mailbot eval {result.directory}")


def register(group: click.Group) -> None:
    group.add_command(labels_group)
