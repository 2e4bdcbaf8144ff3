"""Helpers shared by the command modules: load config, open the database, print JSON."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy.engine import Engine

from mailbot.config import Config, load_config
from mailbot.db import create_schema, get_engine


def get_config(ctx: click.Context) -> Config:
    root = ctx.find_root()
    cached = root.obj.get("config") if root.obj else None
    if cached is None:
        cached = load_config(root.obj.get("config_path") if root.obj else None)
        root.obj["config"] = cached
    return cached


def get_db(ctx: click.Context, *, create: bool = True) -> Engine:
    config = get_config(ctx)
    engine = get_engine(config.resolved_database_url)
    if create:
        create_schema(engine)
    return engine


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))
