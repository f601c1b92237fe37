"""The negative bank of HNCSE-HNM (docs/method.md): a FIFO of the detached, normalised positives
of the previous M minibatches (M = ``bank_size``), M·N vectors when batches are full.

The trainer reads :meth:`NegativeBank.vectors` for a step and pushes that step's positives
only after its loss is computed, so a step never sees its own batch. Under data parallelism
it pushes the gathered positives of all workers, so every worker holds the same bank.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import torch
from torch import Tensor


class NegativeBank:
    """FIFO of the last ``num_batches`` pushed batches of vectors (each (n_b, d), n_b free)."""

    def __init__(self, num_batches: int) -> None:
        if num_batches < 1:
            raise ValueError(f"bank_size must be ≥ 1, got {num_batches}")
        self.num_batches = num_batches
        self._batches: deque[Tensor] = deque(maxlen=num_batches)
        self._cache: Tensor | None = None

    def __len__(self) -> int:
        """Number of vectors held."""
        return sum(batch.shape[0] for batch in self._batches)

    def vectors(self) -> Tensor | None:
        """All held vectors, oldest batch first: (Σ n_b, d) float32, or None while empty."""
        if self._cache is None and self._batches:
            self._cache = torch.cat(list(self._batches))  # one copy per push, not per read
        return self._cache

    def push(self, positives: Tensor) -> None:
        """Append a batch (n, d), detached and copied to float32; evicts the oldest when full."""
        if positives.ndim != 2 or positives.shape[0] == 0:
            raise ValueError(
                f"bank push expects a non-empty (n, d) tensor, got {tuple(positives.shape)}"
            )
        if self._batches and positives.shape[1] != self._batches[0].shape[1]:
            raise ValueError(
                f"bank holds {self._batches[0].shape[1]}-dim vectors, got {positives.shape[1]}"
            )
        self._batches.append(positives.detach().to(torch.float32, copy=True))
        self._cache = None

    def state_dict(self) -> dict[str, Any]:
        """``{"num_batches": M, "batches": [CPU tensors, oldest first]}`` (torch.save-able)."""
        return {"num_batches": self.num_batches, "batches": [b.cpu() for b in self._batches]}

    def load_state_dict(
        self, state: dict[str, Any], device: torch.device | str | None = None
    ) -> None:
        """Restore :meth:`state_dict` exactly, moving the vectors to ``device`` if given."""
        if state.get("num_batches") != self.num_batches:
            raise ValueError(
                f"bank state holds num_batches={state.get('num_batches')!r}, "
                f"this bank has {self.num_batches} (bank_size changed on resume?)"
            )
        self._batches.clear()
        self._cache = None
        for batch in state["batches"]:
            self.push(batch if device is None else batch.to(device))
