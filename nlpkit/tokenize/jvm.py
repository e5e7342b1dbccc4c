"""The one JVM per process, started by nlpkit (never by the first KoNLPy caller).

:func:`configure_jvm` sets heap and flags before the start (the CLI and flows pass
``Settings.java_heap_mb``); :func:`ensure_jvm` starts it lazily with KoNLPy's classpath plus
nlpkit's batch helper (:mod:`nlpkit.tokenize.java_helper`). A missing JDK raises
:class:`~nlpkit.errors.TokenizerError` saying how to install one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlpkit.errors import TokenizerError

__all__ = ["JvmConfig", "configure_jvm", "ensure_jvm", "jvm_info", "konlpy_classpath"]

log = logging.getLogger(__name__)
_lock = threading.Lock()


@dataclass(frozen=True)
class JvmConfig:
    """How the JVM is started (fixed once it runs)."""

    heap_mb: int = 1024  # -Xmx and -Xms: a fixed heap avoids resizing pauses
    gc: str = "G1GC"  # Java 17 default; ParallelGC measured no better here (within noise)
    helper: bool = True  # compile/load nlpkit's Java batch helper
    extra_flags: tuple[str, ...] = field(default_factory=tuple)


_config = JvmConfig()
_state: dict[str, Any] = {"started": False, "helper": False}


def configure_jvm(heap_mb: int | None = None, *, gc: str | None = None, helper: bool | None = None) -> JvmConfig:
    """Set JVM options for this process; a warning (no change) once the JVM already runs."""
    global _config
    new = JvmConfig(heap_mb=heap_mb if heap_mb is not None else _config.heap_mb,
                    gc=gc if gc is not None else _config.gc,
                    helper=helper if helper is not None else _config.helper,
                    extra_flags=_config.extra_flags)
    if new.heap_mb < 128:
        raise ValueError(f"heap_mb must be >= 128, got {new.heap_mb!r}")
    with _lock:
        if _state["started"]:
            if new != _config:
                log.warning("JVM already started with %s; ignoring %s (set it before the first KoNLPy tokenizer)",
                            _config, new)
            return _config
        _config = new
    return _config


def konlpy_classpath() -> list[str]:
    """KoNLPy's jars and its compiled interface classes."""
    try:
        import konlpy
    except ImportError:
        raise ImportError("KoNLPy tokenizers require konlpy and JPype1: pip install 'nlpkit[korean]'") from None
    javadir = Path(konlpy.__file__).parent / "java"
    return [str(javadir / "bin"), *sorted(str(p) for p in javadir.glob("*.jar"))]


def ensure_jvm() -> bool:
    """Start the JVM if needed; return whether nlpkit's batch helper is on the classpath."""
    with _lock:
        if _state["started"]:
            return _state["helper"]
        try:
            import jpype
        except ImportError:
            raise ImportError("KoNLPy tokenizers require JPype1: pip install 'nlpkit[korean]'") from None
        classpath = konlpy_classpath()
        helper_dir = None
        if _config.helper:
            from nlpkit.tokenize.java_helper import build_helper

            helper_dir = build_helper(classpath)
            if helper_dir is not None:
                classpath.append(str(helper_dir))
        if jpype.isJVMStarted():
            log.warning("the JVM was started outside nlpkit; heap and helper settings cannot apply")
            _state.update(started=True, helper=_helper_loadable(jpype))
            return _state["helper"]
        try:
            jvm_path = jpype.getDefaultJVMPath()
        except Exception as e:  # JVMNotFoundException and friends
            raise TokenizerError(
                "no Java runtime found for the KoNLPy tokenizers (okt, komoran, kkma, hannanum): install a JDK 17 "
                "(e.g. 'apt-get install openjdk-17-jdk-headless') or set JAVA_HOME; kiwi and mecab need no Java"
            ) from e
        flags = ["-Dfile.encoding=UTF8", f"-Xmx{_config.heap_mb}m", f"-Xms{_config.heap_mb}m",
                 f"-XX:+Use{_config.gc}", "-Xss4m", *_config.extra_flags]
        try:
            jpype.startJVM(jvm_path, *flags, classpath=classpath, convertStrings=True)
        except OSError as e:
            raise TokenizerError(f"could not start the JVM at {jvm_path!r} with {flags}: {e}; "
                                 "check JAVA_HOME and the heap size (java_heap_mb)") from e
        _state.update(started=True, helper=helper_dir is not None and _helper_loadable(jpype))
        log.debug("JVM started (%s, heap %d MB, helper %s)", jvm_path, _config.heap_mb, _state["helper"])
        return _state["helper"]


def _helper_loadable(jpype: Any) -> bool:
    try:
        jpype.JClass("nlpkit.NlpkitBatch")
        return True
    except Exception:
        return False


def jvm_info() -> dict[str, Any]:
    """Whether the JVM runs, with which settings, and whether the helper is loaded."""
    return {"started": _state["started"], "helper": _state["helper"], "heap_mb": _config.heap_mb, "gc": _config.gc}
