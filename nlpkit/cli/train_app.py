"""The `nlpkit train ...` command group, shared by every area that trains something.

Import ``train_app`` and decorate commands with ``@train_app.command("NAME")``; the group is
registered on the root app once, when this module is first imported.
"""

from __future__ import annotations

import typer

from nlpkit.cli import app

train_app = typer.Typer(name="train", help="Train models (RNN classifier, language model, seq2seq, ...).",
                        no_args_is_help=True)
app.add_typer(train_app, name="train")

__all__ = ["train_app"]
