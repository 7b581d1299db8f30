"""Data-parallel training on PyTorch's distributed engine (``torchrun``), without DistributedDataParallel.

Residual losses differentiate the network with respect to its inputs
outside any module's ``forward``, which DistributedDataParallel does not see:
its gradient hooks then skip the averaging and every rank trains its own
model (PyTorch issues #47562, #63812). So the model is not wrapped; after
each ``backward`` the gradients are averaged explicitly (``all_reduce``), and
so is every loss value an optimiser reads (L-BFGS's line search must see the
same number on every rank).

Sharding: every rank draws the whole batch from the same seeded generator
(cheap) and keeps its own contiguous slice of every point set, particle set
and periodic pair set (an operator's mini-batch is split by members instead, every rank seeing all
points). Slices are equal (the remainder of a batch that does not divide
by N is left out), so the mean of the ranks' mean losses is the mean over
the points they hold, and N processes with B/N points each take the same
steps as one process with B points when N divides B (tested). Only rank 0 writes the run
folder (checkpoints, metrics, plots, progress); every rank reads the same
checkpoint to resume.
"""

from __future__ import annotations

import atexit
import os
import threading
from dataclasses import replace

import torch
import torch.distributed as dist


#: The environment variable in which ``pdedsl train --nproc`` tells its workers its process id.
LAUNCHER_VARIABLE = "PDEDSL_LAUNCHER_PID"

_stop_watching = threading.Event()
_watcher: "threading.Thread | None" = None


def follow_launcher(interval: float = 0.5) -> None:
    """End this worker as soon as the torchrun launcher that started it dies.

    torchrun starts its workers in sessions of their own, so killing the launcher's
    process group (SIGKILL, a scheduler ending the job) leaves them training on and
    writing into the run folder, where a resumed run would then train beside them.
    A thread watches the parent process and exits hard once it is gone
    (checkpoints are written atomically, so nothing half-written remains). It is
    stopped and joined at exit: a daemon thread still running while the interpreter
    shuts down can abort the process.
    """
    global _watcher
    if _watcher is not None:
        return
    parent = os.getppid()
    launcher = int(os.environ.get(LAUNCHER_VARIABLE, "0"))  # `pdedsl train --nproc`, torchrun's parent

    def gone() -> bool:
        if os.getppid() != parent:
            return True
        if launcher > 0:  # torchrun itself may have been killed before this watch began (parent already init)
            try:
                os.kill(launcher, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
        return False

    if gone():
        os._exit(1)

    def watch():
        while not _stop_watching.wait(interval):
            if gone():
                os._exit(1)

    _watcher = threading.Thread(target=watch, name="pdedsl-follow-launcher", daemon=True)
    _watcher.start()
    atexit.register(_stop_following)


def _stop_following() -> None:
    _stop_watching.set()
    if _watcher is not None:
        _watcher.join()


class Context:
    """This process's place in the job: ``rank`` of ``world`` (1 when not launched by torchrun)."""

    def __init__(self):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.started_here = False

    @property
    def active(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """Under torchrun, ``cuda`` means this process's own GPU (``cuda:LOCAL_RANK``)."""
        if self.active and device.type == "cuda" and device.index is None:
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        return device

    def start(self, device: torch.device) -> None:
        """Join the process group: NCCL on GPUs, gloo on the CPU (idempotent)."""
        if "TORCHELASTIC_RUN_ID" in os.environ:
            follow_launcher()
        if not self.active or dist.is_initialized():
            return
        if device.type == "cuda":
            torch.cuda.set_device(self.device(device))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        self.started_here = True

    def stop(self) -> None:
        if self.started_here and dist.is_initialized():
            dist.destroy_process_group()
            self.started_here = False

    def barrier(self) -> None:
        if self.active and dist.is_initialized():
            dist.barrier()

    # ---- averaging ----
    def average_gradients(self, parameters) -> None:
        """Every parameter's gradient replaced by its mean over the ranks (one flat all-reduce)."""
        if not self.active:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
        flat = torch.cat([g.reshape(-1) for g in grads]) / self.world
        dist.all_reduce(flat)
        offset = 0
        for parameter, grad in zip(parameters, grads):
            size = grad.numel()
            parameter.grad = flat[offset:offset + size].view_as(parameter).clone()
            offset += size

    def average(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of a tensor over the ranks (detached)."""
        if not self.active:
            return value.detach()
        total = value.detach().clone()
        dist.all_reduce(total)
        return total / self.world

    def total(self, value: torch.Tensor) -> torch.Tensor:
        """The sum of a tensor over the ranks (detached)."""
        if not self.active:
            return value.detach()
        total = value.detach().clone()
        dist.all_reduce(total)
        return total

    def average_terms(self, terms: dict) -> dict:
        """Loss terms averaged over the ranks, as floats."""
        if not self.active or not terms:
            return {k: float(v) for k, v in terms.items()}
        device = next(iter(terms.values())).device if torch.is_tensor(next(iter(terms.values()))) else None
        values = self.average(torch.tensor([float(v) for v in terms.values()], dtype=torch.float64, device=device))
        return dict(zip(terms, values.tolist()))

    def average_term_tensors(self, terms: dict) -> dict:
        """Loss terms averaged over the ranks, as 0-dim tensors on their device (no wait for the device)."""
        if not self.active or not terms:
            return terms
        values = self.average(torch.stack(list(terms.values())))
        return dict(zip(terms, values.unbind()))

    def check_identical(self, parameters) -> float:
        """The largest difference between this rank's parameters and rank 0's (0 when not distributed)."""
        if not self.active:
            return 0.0
        flat = torch.cat([p.detach().reshape(-1) for p in parameters])
        reference = flat.clone()
        dist.broadcast(reference, 0)
        difference = (flat - reference).abs().max().reshape(1)
        dist.all_reduce(difference, op=dist.ReduceOp.MAX)
        return float(difference)

    # ---- sharding ----
    def slice_of(self, count: int) -> slice:
        """This rank's contiguous share of ``count`` items: equal shares, so that the mean of the ranks' mean
        losses (what averaging the gradients takes) is the mean over the items they hold. The last
        ``count % world`` items of a draw are left out (a draw is random, so this is a smaller draw, not a
        bias); fewer items than ranks are held by every rank whole."""
        base = count // self.world
        if base == 0:
            return slice(0, count)
        return slice(self.rank * base, (self.rank + 1) * base)

    def shard(self, batches: dict) -> dict:
        """This rank's part of ``Objective.sample``'s result."""
        if not self.active:
            return batches
        out = dict(batches)
        if "samples" in batches:  # an operator's mini-batch: members are split, every rank sees all points
            for key in ("samples", "coding"):
                if key in batches:
                    out[key] = batches[key][self.slice_of(len(batches[key]))]
            return out
        out["groups"] = {key: self._subset(batch) for key, batch in batches["groups"].items()}
        out["periodic"] = [(self._subset(low), self._subset(high)) for low, high in batches["periodic"]]
        if "weak" in batches:
            out["weak"] = {key: self._weak(batch) for key, batch in batches["weak"].items()}
        return out

    def _subset(self, batch):
        part = self.slice_of(len(batch))
        return batch.subset(torch.arange(part.start, part.stop))

    def _weak(self, batch):
        part = self.slice_of(len(batch.radii))
        return replace(batch, centres=batch.centres[part], radii=batch.radii[part],
                       times=None if batch.times is None else batch.times[part])


CONTEXT = Context()
