"""Device choice and the speed-ups each device supports (same code path on CPU and CUDA).

On CUDA: cuDNN RNN kernels with autotuning, automatic mixed precision (bf16 where the GPU
supports it, else fp16 with a GradScaler), pinned-memory transfers and optional
``torch.compile``. On CPU: a bounded number of threads, full precision.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nlpkit.errors import ModelError

if TYPE_CHECKING:
    import torch

__all__ = ["DeviceName", "Runtime", "resolve_runtime"]

log = logging.getLogger(__name__)
DeviceName = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


@dataclass
class Runtime:
    """What a training or evaluation run runs on."""

    device: torch.device
    amp_dtype: torch.dtype | None
    scaler: Any  # torch.amp.GradScaler or None
    compile: bool

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Mixed-precision context on CUDA, a no-op elsewhere."""
        from nlpkit.rnn._torch import torch

        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def backward_step(self, loss: torch.Tensor, model: torch.nn.Module, optimizer: Any, clip: float | None) -> float:
        """Backward pass, gradient clipping (unscaled first under fp16) and optimizer step.

        Returns the gradient norm before clipping.
        """
        from nlpkit.rnn._torch import torch

        optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(optimizer)
        else:
            loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip if clip else float("inf"))
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()
        return float(norm)

    def maybe_compile(self, model: torch.nn.Module) -> torch.nn.Module:
        """``torch.compile(model)`` when asked for and on CUDA; the model unchanged otherwise."""
        from nlpkit.rnn._torch import torch

        if self.compile and self.device.type == "cuda":
            return torch.compile(model)  # type: ignore[return-value]
        return model


def resolve_runtime(
    device: str = "auto", *, amp: bool = True, compile: bool = False, threads: int | None = None
) -> Runtime:
    """Pick the device and configure it.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda"}
        ``auto`` takes CUDA when available, else the CPU.
    amp : bool
        Mixed precision on CUDA (ignored on CPU, where LSTMs gain nothing from it).
    compile : bool
        ``torch.compile`` the model on CUDA (ignored on CPU).
    threads : int, optional
        CPU threads for torch (``None`` leaves torch's default).
    """
    from nlpkit.rnn._torch import torch

    if device not in DEVICES:
        raise ModelError(f"unknown device {device!r}; allowed: {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda' was asked for but torch sees no CUDA GPU; use --device cpu or auto")
    name = "cuda" if device == "cuda" or (device == "auto" and torch.cuda.is_available()) else "cpu"
    dev = torch.device(name)
    if threads is not None:
        if threads < 1:
            raise ModelError(f"threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    if name == "cpu":
        if amp:
            log.debug("mixed precision is used on CUDA only; training in float32 on the CPU")
        return Runtime(device=dev, amp_dtype=None, scaler=None, compile=False)
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    amp_dtype = None
    scaler = None
    if amp:
        if torch.cuda.is_bf16_supported():
            amp_dtype = torch.bfloat16  # same range as float32: no loss scaling needed
        else:
            amp_dtype = torch.float16
            scaler = torch.amp.GradScaler("cuda")
    return Runtime(device=dev, amp_dtype=amp_dtype, scaler=scaler, compile=compile)
