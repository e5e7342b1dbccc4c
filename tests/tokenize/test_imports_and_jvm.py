"""Import hygiene and the missing-JDK error, each in a fresh interpreter (the session JVM is already up)."""

from __future__ import annotations

import subprocess
import sys

CODE_IMPORTS = """
import sys
import nlpkit.tokenize, nlpkit.tokenize.dataset, nlpkit.cli.tokenize_cmds
heavy = [m for m in ("jpype", "kiwipiepy", "mecab_ko", "konlpy", "prefect", "nltk") if m in sys.modules]
print(heavy)
"""

CODE_NO_JDK = """
import jpype
def missing():
    raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found", "JAVA_HOME")
jpype.getDefaultJVMPath = missing
from nlpkit.errors import TokenizerError
from nlpkit.tokenize import get_tokenizer
try:
    get_tokenizer("komoran").tokenize("문장")
except TokenizerError as e:
    print("ERR", e)
"""


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_importing_the_layer_loads_no_engine_and_no_prefect():
    assert _run(CODE_IMPORTS).strip() == "[]"


def test_missing_jdk_is_a_clear_error():
    out = _run(CODE_NO_JDK)
    assert out.startswith("ERR no Java runtime found")
    assert "openjdk-17-jdk-headless" in out and "kiwi and mecab need no Java" in out
