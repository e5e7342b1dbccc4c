"""Defaults are declared once: every `nlpkit train ...` option defaults to its settings field."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from nlpkit.errors import ModelError
from nlpkit.rnn.configs import ClassifierSettings, LMSettings, Seq2SeqSettings, with_overrides
from nlpkit.rnn.train_loop import TrainOptions

COMMANDS = {"train_classifier_cmd": ClassifierSettings, "train_lm_cmd": LMSettings,
            "train_seq2seq_cmd": Seq2SeqSettings}
NOT_SETTINGS = {"out", "dataset", "version", "text", "compare", "resume", "overwrite", "max_minutes", "threads", "ctx"}
#: `train lm --level` has no fixed default: morph with --tokenizer, else LMSettings.level (checked below)
DERIVED = {("train_lm_cmd", "level")}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_defaults_are_the_settings_defaults(command: str) -> None:
    from nlpkit.cli import train_cmds

    settings = COMMANDS[command]()
    own = {f.name for f in dataclasses.fields(settings)} - {"train"}
    train_fields = {f.name for f in dataclasses.fields(TrainOptions)}
    checked = 0
    for name, param in inspect.signature(getattr(train_cmds, command)).parameters.items():
        field = train_cmds.FIELD_OF.get(name, name)
        if name in NOT_SETTINGS:
            continue
        if (command, name) in DERIVED:
            assert param.default.default is None and settings.level in param.default.help
            continue
        default = param.default.default
        if name == "size":  # --size is the sizing mode (the pins come from what the command line gave)
            assert default == settings.sizing.mode
            continue
        want = getattr(settings, field) if field in own else getattr(settings.train, field)
        assert field in own | train_fields, f"{command}: --{name} has no settings field"
        assert (list(want) if isinstance(want, tuple) else want) == default, f"{command}: --{name}"
        checked += 1
    assert checked >= 10


def test_kind_defaults_differ_where_the_models_need_it() -> None:
    assert Seq2SeqSettings().train.amp is False and Seq2SeqSettings().train.patience == 5
    assert LMSettings().train.epochs == 50 and ClassifierSettings().train.epochs == 10


def test_overrides_change_settings_and_training_options_and_refuse_typos() -> None:
    s = with_overrides(ClassifierSettings(), tokenizer="mecab", num_layers=2, epochs=3, max_minutes=None)
    assert (s.tokenizer, s.num_layers, s.train.epochs, s.train.max_minutes) == ("mecab", 2, 3, None)
    assert ClassifierSettings().train.epochs == 10  # frozen: the defaults are untouched
    with pytest.raises(ModelError, match="no option"):
        with_overrides(ClassifierSettings(), num_layer=2)
    with pytest.raises(ModelError, match="lr must be > 0"):
        with_overrides(LMSettings(), lr=0.0)
    with pytest.raises(ModelError, match="seq_len"):
        LMSettings(seq_len=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ClassifierSettings().arch = "gru"  # type: ignore[misc]
