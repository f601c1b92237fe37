"""Data parallelism under torchrun: process group setup and gathering with gradient.

Every worker computes the loss over the *global* batch (gathered embeddings), so negatives
span all workers. Only the local slice of the gathered tensor carries gradient; DDP then
averages gradients over W workers, so the loss is scaled by W to give exactly the gradient of
the single-process loss on the concatenated batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_from_env() -> DistContext:
    """Join the process group torchrun describes in the environment (or run alone)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext()
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank)


def gather_with_grad(local: Tensor, context: DistContext) -> Tensor:
    """Concatenate every worker's ``local`` (same shape) along dim 0, rank order; the own
    slice is ``local`` itself, so gradient reaches this worker's encoder."""
    if not context.enabled:
        return local
    parts = [torch.empty_like(local) for _ in range(context.world_size)]
    dist.all_gather(parts, local.detach().contiguous())
    parts[context.rank] = local
    return torch.cat(parts)


def barrier(context: DistContext) -> None:
    if context.enabled:
        dist.barrier()


def shutdown(context: DistContext) -> None:
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
