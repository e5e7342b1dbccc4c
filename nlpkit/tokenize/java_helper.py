"""Build nlpkit's Java batch helper (``java/NlpkitBatch.java``) on first use.

The source ships with the package; it is compiled with ``javac`` against KoNLPy's jars into
``~/.cache/nlpkit/java/<sha256 of the source>/`` (or ``$XDG_CACHE_HOME``-free
``cache_dir`` given to :func:`build_helper`), written to a temporary folder and renamed, so
concurrent processes never see half a build. Without ``javac`` the KoNLPy backends still
work through KoNLPy's own per-sentence calls (slower) and a warning says how to fix it.
``make java-helper`` builds it ahead of time.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["HELPER_SOURCE", "build_helper", "default_cache_dir"]

log = logging.getLogger(__name__)
HELPER_SOURCE = Path(__file__).with_name("java") / "NlpkitBatch.java"


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "nlpkit" / "java"


def build_helper(classpath: list[str], cache_dir: Path | None = None) -> Path | None:
    """Compiled helper's class folder (built now if needed), or None when ``javac`` is missing or fails."""
    source = HELPER_SOURCE.read_bytes()
    digest = hashlib.sha256(source + "\n".join(Path(p).name for p in classpath).encode()).hexdigest()[:16]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = root / digest
    if (target / "nlpkit" / "NlpkitBatch.class").is_file():
        return target
    javac = shutil.which("javac")
    if javac is None:
        log.warning("javac not found: KoNLPy tokenizers fall back to per-sentence calls (slower); install a JDK "
                    "(e.g. 'apt-get install openjdk-17-jdk-headless') to build nlpkit's batch helper")
        return None
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=root))
    try:
        proc = subprocess.run([javac, "-nowarn", "-encoding", "UTF-8", "--release", "11", "-d", str(tmp),
                               "-cp", ":".join(classpath), str(HELPER_SOURCE)],
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log.warning("could not compile %s (falling back to per-sentence calls):\n%s", HELPER_SOURCE,
                        proc.stderr[-2000:])
            return None
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            if not (target / "nlpkit" / "NlpkitBatch.class").is_file():
                raise
        return target
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
