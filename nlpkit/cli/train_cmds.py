"""RNN model commands: `train classifier|lm|seq2seq`, `evaluate`, `generate`, `plot-temperature`.

`nlpkit models predict DIR TEXT` (in dataset_cmds) hands model directories to ``nlpkit.rnn.predict``.
torch is imported only when one of these commands runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from nlpkit.cli import app
from nlpkit.cli._common import console, get_store, handle_errors, progress_bar
from nlpkit.cli.train_app import train_app
from nlpkit.errors import ModelError
from nlpkit.rnn.configs import ClassifierSettings, LMSettings, Seq2SeqSettings, with_overrides

# -- options every training command shares; defaults come from nlpkit.rnn.configs -------------
C, L, S = ClassifierSettings(), LMSettings(), Seq2SeqSettings()
OutOpt = typer.Option(..., "--out", "-o", help="Model directory to write (model.safetensors, config.json, ...).")
DeviceOpt = typer.Option(C.train.device, "--device", help="auto | cpu | cuda (CUDA: cuDNN, AMP, pinned memory).")
SeedOpt = typer.Option(C.train.seed, "--seed", help="Seed for initialisation, data order and splits.")
MaxMinOpt = typer.Option(None, "--max-minutes", help="Stop training after this many minutes (then evaluate, save).")
MaxCpuOpt = typer.Option(None, "--max-cpu-minutes",
                         help="Stop training after this many minutes of process CPU time (all threads summed; "
                              "honest on a shared machine), then evaluate and save.")
ThreadsOpt = typer.Option(None, "--threads", help="CPU threads for torch (on a busy machine 1 is often fastest).")
ResumeOpt = typer.Option(False, "--resume", help="Continue training the model in --out (weights and optimizer).")
OverwriteOpt = typer.Option(False, "--overwrite",
                            help="Replace the nlpkit model already in --out (other folders are never replaced).")
CompileOpt = typer.Option(False, "--compile", help="torch.compile the model (CUDA only).")
SizeOpt = typer.Option("fixed", "--size",
                       help="fixed: the sizes given (or the defaults) | budget: width, depth, sequence length, batch "
                            "and LR chosen for --max-cpu-minutes/--max-minutes from a throughput probe (options "
                            "given on the command line are kept); the choice and why go into config.json.")
_AMP_HELP = "Mixed precision: bf16/fp16 on CUDA; bf16 training on CPUs with native bf16."
#: CLI parameter -> settings field where the names differ (tests/rnn/test_configs.py checks every default).
FIELD_OF = {"layers": "num_layers", "tie": "tie_weights", "digits": "max_digits", "compile_": "compile",
            "dicts": "user_dicts"}


def _sizing(ctx: typer.Context, size: str, kind: str) -> Any:
    """``--size``: sized options the user typed are pinned (click knows which came from the command line)."""
    from nlpkit.rnn.configs import SizingOptions
    from nlpkit.rnn.sizing import sized_fields

    # by name: typer may carry its own copy of click's ParameterSource enum
    typed = ("COMMANDLINE", "ENVIRONMENT")
    given = [FIELD_OF.get(n, n) for n in ctx.params if getattr(ctx.get_parameter_source(n), "name", "") in typed]
    try:
        return SizingOptions(size, tuple(n for n in given if n in sized_fields(kind)))
    except ModelError as e:
        raise ModelError(f"--size {size!r}: {e}; use --size fixed or --size budget") from e


def _epochs(default: int) -> Any:
    return typer.Option(default, "--epochs", help="Upper bound on passes over the training data.")


@contextmanager
def _progress(description: str, epochs: int) -> Iterator[Callable[[Any], None]]:
    """A progress bar over all training steps showing loss and tokens/s."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=None, rate="")

        def update(ev: Any) -> None:
            bar.update(task, total=ev.steps_per_epoch * epochs, completed=ev.step,
                       rate=f"epoch {ev.epoch + 1} loss {ev.loss:.3f} {ev.tokens_per_s / 1000:.1f}k tok/s")

        yield update


def _print_metrics(metrics: dict[str, Any], model_dir: Path) -> None:
    table = Table("metric", "value")
    for key, value in metrics.items():
        if key != "history":
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
    console.print(f"saved to {model_dir} (metrics.json, loss_curves.png; rows in model_runs)")


@train_app.command("classifier")
@handle_errors
def train_classifier_cmd(
    ctx: typer.Context,
    dataset: str = typer.Option(..., "--dataset", "-d", help="Labelled store dataset: imdb, nsmc, korean_news, ..."),
    out: Path = OutOpt,
    version: str = typer.Option(None, "--version", help="Dataset version (default: latest)."),
    arch: str = typer.Option(C.arch, "--arch", help="lstm | gru"),
    bidirectional: bool = typer.Option(C.bidirectional, "--bidirectional/--unidirectional"),
    tokenizer: str = typer.Option(C.tokenizer, "--tokenizer",
                                  help="words | chars | whitespace, or a tokenize backend (mecab, kiwi, okt, ...): "
                                       "its stored tokens_<dataset>_<backend> dataset is read (built when missing)."),
    dicts: list[Path] = typer.Option(list(C.user_dicts), "--dict",
                                     help="User dictionary TSV for backend tokenizers (repeatable)."),
    token_format: str = typer.Option(C.token_format, "--token-format",
                                     help="form (좋) | form_tag (좋/VA: the backend's tag kept; backend tokenizers)."),
    embed_dim: int = typer.Option(C.embed_dim, "--embed-dim"),
    hidden_size: int = typer.Option(C.hidden_size, "--hidden-size"),
    layers: int = typer.Option(C.num_layers, "--layers"),
    dropout: float = typer.Option(C.dropout, "--dropout"),
    pooling: str = typer.Option(C.pooling, "--pooling", help="last | max | last_max"),
    max_len: int = typer.Option(C.max_len, "--max-len", help="Tokens kept per text (head + tail, see --head-fraction)."),
    head_fraction: float = typer.Option(C.head_fraction, "--head-fraction",
                                        help="Share of --max-len a long text keeps from its start (news: 0.75)."),
    view: str = typer.Option(C.view, "--view", help="all | content (content words only; engine tokenizers)."),
    min_freq: int = typer.Option(C.min_freq, "--min-freq"),
    max_vocab: int = typer.Option(C.max_vocab, "--max-vocab"),
    epochs: int = _epochs(C.train.epochs),
    batch_size: int = typer.Option(C.train.batch_size, "--batch-size"),
    lr: float = typer.Option(C.train.lr, "--lr"),
    warmup_steps: int = typer.Option(C.train.warmup_steps, "--warmup-steps"),
    patience: int = typer.Option(C.train.patience, "--patience", help="Epochs without validation gain before stopping."),
    device: str = DeviceOpt, seed: int = SeedOpt, max_minutes: float = MaxMinOpt, threads: int = ThreadsOpt,
    max_cpu_minutes: float = MaxCpuOpt, size: str = SizeOpt,
    resume: bool = ResumeOpt, overwrite: bool = OverwriteOpt, compile_: bool = CompileOpt,
    amp: bool = typer.Option(C.train.amp, "--amp/--no-amp", help=_AMP_HELP),
) -> None:
    """Train a (bi)LSTM/GRU classifier on a labelled dataset from the store."""
    from nlpkit.datasets.labels import int_label_names
    from nlpkit.rnn.classify import train_classifier
    from nlpkit.rnn.data import load_labelled

    store = get_store()
    settings = with_overrides(C, arch=arch, bidirectional=bidirectional, tokenizer=tokenizer,
                              user_dicts=tuple(str(d) for d in dicts), token_format=token_format, pooling=pooling,
                              embed_dim=embed_dim, hidden_size=hidden_size, num_layers=layers, dropout=dropout,
                              max_len=max_len, min_freq=min_freq, head_fraction=head_fraction, view=view,
                              max_vocab=max_vocab, epochs=epochs, batch_size=batch_size, lr=lr, patience=patience,
                              device=device, seed=seed, max_minutes=max_minutes, threads=threads, amp=amp,
                              compile=compile_, max_cpu_minutes=max_cpu_minutes, warmup_steps=warmup_steps,
                              sizing=_sizing(ctx, size, "classifier"))
    splits = load_labelled(store, dataset, version=version, seed=seed, label_names=int_label_names(store, dataset))
    with _progress(f"train {arch}", epochs) as update:
        result = train_classifier(splits, out=out, settings=settings, source=dataset, store=store, resume=resume,
                                  overwrite=overwrite, on_progress=update)
    _print_metrics(result.metrics, result.model_dir)


@train_app.command("lm")
@handle_errors
def train_lm_cmd(
    ctx: typer.Context,
    out: Path = OutOpt,
    text: Path = typer.Option(None, "--text", help="UTF-8 text file (last 10% held out)."),
    dataset: str = typer.Option(None, "--dataset", "-d", help="Store dataset with a text column (lm_ptb, ...)."),
    level: str = typer.Option(None, "--level",
                              help=f"char | word | morph (default: morph with --tokenizer, else {L.level})."),
    tokenizer: str = typer.Option(L.tokenizer, "--tokenizer",
                                  help="Read the --dataset's stored tokens_<dataset>_<backend> (e.g. kiwi; built "
                                       "when missing) instead of its raw text: morpheme or char level."),
    dicts: list[Path] = typer.Option(list(L.user_dicts), "--dict",
                                     help="User dictionary TSV of the stored tokens (default: the recorded ones)."),
    arch: str = typer.Option(L.arch, "--arch", help="lstm | gru"),
    hidden_size: int = typer.Option(L.hidden_size, "--hidden-size"),
    layers: int = typer.Option(L.num_layers, "--layers"),
    dropout: float = typer.Option(L.dropout, "--dropout"),
    tie: bool = typer.Option(L.tie_weights, "--tie/--no-tie",
                             help="Share embedding and output weights (Press & Wolf); default: word level only."),
    layer_norm: bool = typer.Option(L.layer_norm, "--layer-norm", help="LayerNorm on the top LSTM layer's output."),
    seq_len: int = typer.Option(L.seq_len, "--seq-len", help="Truncated-BPTT window."),
    max_vocab: int = typer.Option(L.max_vocab, "--max-vocab"),
    epochs: int = _epochs(L.train.epochs),
    batch_size: int = typer.Option(L.train.batch_size, "--batch-size"),
    lr: float = typer.Option(L.train.lr, "--lr"),
    patience: int = typer.Option(L.train.patience, "--patience"),
    device: str = DeviceOpt, seed: int = SeedOpt, max_minutes: float = MaxMinOpt, threads: int = ThreadsOpt,
    max_cpu_minutes: float = MaxCpuOpt, size: str = SizeOpt,
    resume: bool = ResumeOpt, overwrite: bool = OverwriteOpt, compile_: bool = CompileOpt,
    amp: bool = typer.Option(L.train.amp, "--amp/--no-amp", help=_AMP_HELP),
) -> None:
    """Train a character-, word- or morpheme-level LSTM language model (stateful truncated BPTT).

    With --tokenizer the model learns from the dataset's stored tokens (never re-tokenized), e.g.
    `nlpkit train lm --dataset korean_news --tokenizer kiwi --out models/news_lm`.
    """
    from nlpkit.rnn.data import load_lm_text
    from nlpkit.rnn.lm_train import train_lm

    store = get_store()
    level = level or ("morph" if tokenizer else L.level)
    settings = with_overrides(L, level=level, arch=arch, hidden_size=hidden_size, num_layers=layers, dropout=dropout,
                              tie_weights=tie, layer_norm=layer_norm, seq_len=seq_len, max_vocab=max_vocab,
                              epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, device=device,
                              seed=seed, max_minutes=max_minutes, threads=threads, amp=amp, compile=compile_,
                              tokenizer=tokenizer, user_dicts=tuple(str(d) for d in dicts),
                              max_cpu_minutes=max_cpu_minutes, sizing=_sizing(ctx, size, "lm"))
    if tokenizer:
        from nlpkit.rnn.news_lm import train_news_lm

        if not dataset or text is not None:
            raise ModelError("--tokenizer reads a store dataset's stored tokens: give --dataset (not --text)")
        with _progress(f"train {level} lm", epochs) as update:
            result = train_news_lm(store, dataset, out=out, settings=settings, resume=resume, overwrite=overwrite,
                                   on_progress=update)
        _print_metrics(result.metrics, result.model_dir)
        return
    train_text, valid_text, source = load_lm_text(text_file=text, store=store if dataset else None, dataset=dataset)
    with _progress(f"train {level} lm", epochs) as update:
        result = train_lm(train_text, valid_text, out=out, settings=settings, source=source, store=store,
                          resume=resume, overwrite=overwrite, on_progress=update)
    _print_metrics(result.metrics, result.model_dir)


@train_app.command("seq2seq")
@handle_errors
def train_seq2seq_cmd(
    ctx: typer.Context,
    out: Path = OutOpt,
    task: str = typer.Option(S.task, "--task", help="addition"),
    reverse: bool = typer.Option(S.reverse, "--reverse", help="Feed the question right to left."),
    peeky: bool = typer.Option(S.peeky, "--peeky", help="Give the encoder state to every decoder step."),
    compare: bool = typer.Option(False, "--compare", help="Train plain, reversed and reversed+peeky into OUT/*."),
    digits: int = typer.Option(S.max_digits, "--digits", help="Operands have up to this many digits."),
    n_train: int = typer.Option(S.n_train, "--n-train"),
    n_test: int = typer.Option(S.n_test, "--n-test"),
    hidden_size: int = typer.Option(S.hidden_size, "--hidden-size"),
    embed_dim: int = typer.Option(S.embed_dim, "--embed-dim"),
    epochs: int = _epochs(S.train.epochs),
    batch_size: int = typer.Option(S.train.batch_size, "--batch-size"),
    lr: float = typer.Option(S.train.lr, "--lr"),
    patience: int = typer.Option(S.train.patience, "--patience"),
    device: str = DeviceOpt, seed: int = SeedOpt, max_minutes: float = MaxMinOpt, threads: int = ThreadsOpt,
    max_cpu_minutes: float = MaxCpuOpt, size: str = SizeOpt,
    resume: bool = ResumeOpt, overwrite: bool = OverwriteOpt, compile_: bool = CompileOpt,
    amp: bool = typer.Option(S.train.amp, "--amp/--no-amp", help=_AMP_HELP),
) -> None:
    """Train the encoder-decoder on synthetic addition and report exact-match accuracy."""
    from nlpkit.rnn.seq2seq_train import compare_variants, train_seq2seq

    settings = with_overrides(S, task=task, max_digits=digits, n_train=n_train, n_test=n_test,
                              hidden_size=hidden_size, embed_dim=embed_dim, epochs=epochs, batch_size=batch_size,
                              lr=lr, patience=patience, device=device, seed=seed, max_minutes=max_minutes,
                              threads=threads, amp=amp, compile=compile_, max_cpu_minutes=max_cpu_minutes,
                              sizing=_sizing(ctx, size, "seq2seq"))
    if compare:
        if resume or reverse or peeky:
            raise ModelError("--compare trains all three variants itself; drop --reverse/--peeky/--resume")
        with _progress("seq2seq x3", epochs * 3) as update:
            rows = compare_variants(out, settings=settings, store=get_store(), overwrite=overwrite,
                                    on_progress=update)
        table = Table("variant", "test exact match", "epochs", "train s")
        for r in rows:
            table.add_row(r["variant"], f"{r['test_exact_match']:.4f}", str(r["epochs"]), f"{r['train_seconds']:.0f}")
        console.print(table)
        return
    with _progress("seq2seq", epochs) as update:
        result = train_seq2seq(out=out, settings=with_overrides(settings, reverse=reverse, peeky=peeky),
                               store=get_store(), resume=resume, overwrite=overwrite, on_progress=update)
    _print_metrics(result.metrics, result.model_dir)


@app.command()
@handle_errors
def evaluate(
    model_dir: Path = typer.Argument(..., help="A model directory written by `nlpkit train`."),
    split: str = typer.Option("test", "--split", help="Classifier: which split of its dataset."),
    text: Path = typer.Option(None, "--text", help="LM: evaluate on this text file instead of its held-out text."),
    device: str = DeviceOpt,
) -> None:
    """Evaluate a saved model: classifier accuracy/F1, LM loss/perplexity, seq2seq exact match."""
    from nlpkit.rnn import model_kind

    kind = model_kind(model_dir)
    if kind is None:
        raise ModelError(f"{model_dir} is not an nlpkit RNN model directory (no valid config.json)")
    from nlpkit.rnn.model_checks import MAX_CONFIG_BYTES, read_json_checked

    config = read_json_checked(model_dir / "config.json", max_bytes=MAX_CONFIG_BYTES)
    if kind == "classifier":
        from nlpkit.rnn.classify import evaluate_classifier
        from nlpkit.datasets.labels import int_label_names
        from nlpkit.rnn.data import load_labelled

        store = get_store()
        splits = load_labelled(store, config["source"], seed=int(config["train"]["seed"]),
                               label_names=int_label_names(store, str(config["source"])))
        metrics = evaluate_classifier(model_dir, splits, split=split, device=device, store=store,
                                      source=str(config["source"]))
    elif kind == "lm" and text is None and config.get("tokens"):
        from nlpkit.rnn.news_lm import evaluate_news_lm

        metrics = evaluate_news_lm(model_dir, get_store(), split="test")
    elif kind == "lm":
        from nlpkit.rnn.data import load_lm_text
        from nlpkit.rnn.lm_train import evaluate_lm

        if text is not None:
            body = text.read_text(encoding="utf-8")
        else:
            src = str(config["source"])
            store_name = src.removeprefix("store:") if src.startswith("store:") else None
            _, body, _ = load_lm_text(text_file=None if store_name else src, store=get_store() if store_name else None,
                                      dataset=store_name)
        metrics = evaluate_lm(model_dir, body, device=device)
    else:
        from nlpkit.rnn.seq2seq_train import evaluate_seq2seq

        metrics = evaluate_seq2seq(model_dir, device=device)
    table = Table("metric", "value")
    for k, v in metrics.items():
        table.add_row(k, f"{v:.4f}")
    console.print(table)


@app.command()
@handle_errors
def generate(
    model_dir: Path = typer.Argument(..., help="A language-model directory."),
    prompt: str = typer.Option("", "--prompt", "-p", help="Text to continue."),
    temperature: float = typer.Option(None, "--temperature", "-t",
                                      help="> 0; lower is more conservative [default: 0.8 morpheme models, else 1.0]."),
    top_k: int = typer.Option(None, "--top-k", help="Sample only among the k most likely tokens (>= 1) "
                              "[default: 40 morpheme models, else no limit]."),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus: sample among the most likely tokens whose probability "
                                "sums to p, in (0, 1] [default: 0.9 morpheme models, else no cut]."),
    length: int = typer.Option(300, "--length", "-n", help="At most this many tokens (characters, words or morphemes)."),
    sentences: int = typer.Option(None, "--sentences", help="Stop after this many sentences (char and morpheme "
                                  "models; 0: only at --length) [default: 2 morpheme models, else 0]."),
    greedy: bool = typer.Option(False, "--greedy", help="Always take the most likely token."),
    seed: int = typer.Option(None, "--seed", help="Same seed, same model, same options: the same text."),
    device: str = typer.Option("cpu", "--device"),
) -> None:
    """Sample a continuation of --prompt from a trained language model (never <unk>)."""
    from nlpkit.rnn.lm_train import load_lm
    from nlpkit.rnn.sampling import check_sampling_args, generate as _generate

    model, _, vocab = load_lm(model_dir, device)
    if model.config.level == "morph":  # morphemes: the prompt is analysed, the output joined back into text
        from nlpkit.rnn.news_lm import generate_news

        given = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
        text = generate_news(model_dir, prompt, length=length, greedy=greedy, seed=seed,
                             sentences=2 if sentences is None else (sentences or None),
                             **{k: v for k, v in given.items() if v is not None})
        console.print(text, highlight=False, markup=False, soft_wrap=True)
        return
    temperature = 1.0 if temperature is None else temperature
    check_sampling_args(temperature, top_k, length, top_p)
    text = _generate(model, vocab, prompt, length=length, temperature=temperature, top_k=top_k, top_p=top_p,
                     greedy=greedy, seed=seed, sentences=sentences or None)
    console.print(prompt + text, highlight=False, markup=False)


@app.command("plot-temperature")
@handle_errors
def plot_temperature_cmd(
    model_dir: Path = typer.Argument(..., help="A language-model directory."),
    prompt: str = typer.Option(..., "--prompt", "-p", help="Context whose next-token distribution is shown."),
    out: Path = typer.Option(Path("temperature.png"), "--out", "-o", help="PNG to write."),
    samples: int = typer.Option(3, "--samples", help="Samples per temperature for the diversity curve."),
    length: int = typer.Option(200, "--length"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Plot how temperature reshapes the next-token distribution, and entropy/diversity against T."""
    from nlpkit.rnn.lm_train import load_lm
    from nlpkit.rnn.temperature import plot_temperature

    model, _, vocab = load_lm(model_dir)
    path, rows = plot_temperature(model, vocab, prompt, out, samples=samples, length=length, seed=seed)
    table = Table("T", "next-token entropy", "top-1 prob", "distinct-1", "distinct-2", "sample")
    for r in rows:
        table.add_row(f"{r['temperature']:g}", f"{r['next_token_entropy']:.3f}", f"{r['top_token_probability']:.3f}",
                      f"{r['distinct_1']:.3f}", f"{r['distinct_2']:.3f}", r["sample"][:40].replace("\n", " "))
    console.print(table)
    console.print(f"wrote {path}")
