"""The one place torch is imported: a missing install becomes a clear MissingDependencyError.

Every module of ``nlpkit.rnn`` that needs torch does ``from nlpkit.rnn._torch import torch, nn``;
``nlpkit`` and ``nlpkit.rnn`` themselves import without torch.
"""

from __future__ import annotations

from nlpkit.errors import MissingDependencyError

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - torch is installed in the dev environment
    raise MissingDependencyError(
        "nlpkit's RNN models require torch and safetensors: pip install 'nlpkit[torch]'"
    ) from None

__all__ = ["torch", "nn"]
