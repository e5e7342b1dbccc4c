from __future__ import annotations

import subprocess
import sys


def test_importing_features_loads_no_heavy_dependency():
    code = ("import sys, nlpkit.features, nlpkit.features.build, nlpkit.features.report, nlpkit.features.index, "
            "nlpkit.cli.features_cmds; "
            "bad = [m for m in ('prefect', 'torch', 'numba', 'kiwipiepy', 'jpype', 'matplotlib') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
