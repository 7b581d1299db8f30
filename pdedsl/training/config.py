"""Training settings, with defaults that train the bundled 1-D, 1-D + time and 2-D specs well on a CPU."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields


@dataclass
class TrainConfig:
    backend: str = "pinn"
    backend_options: dict = field(default_factory=dict)  # e.g. {"width": 64, "depth": 4}
    steps: int = 1000  # Adam steps
    lbfgs_steps: int = 2000  # L-BFGS iterations after Adam (0: none)
    learning_rate: float = 1e-3
    decay: float = 0.1  # the Adam learning rate falls geometrically to learning_rate * decay
    interior_points: int = 1000  # per equation target
    boundary_points: int = 400  # per boundary or initial target
    resample_every: int = 100  # Adam steps between fresh collocation points (L-BFGS keeps the last set)
    sampling: str = "uniform"  # or "rad": equation points drawn where the residual is large (objective.py)
    weights: dict = field(default_factory=dict)  # residual or term name -> loss weight (default 1)
    form: str = "strong"  # or "weak": equations tested against Wendland functions on particles (training/weak.py)
    weak_particles: int = 200  # particles (test balls) per equation target and draw
    weak_radius: float = 0.0  # largest particle radius (0: a tenth of the domain's narrowest side)
    derivatives: str = "auto"  # auto | forward | autograd (runtime/derivatives.py)
    compile: str = "auto"  # torch.compile the residuals: on, off, or auto (training/compiling.py: worth_compiling)
    hard_dirichlet: bool = True  # build u = g on whole box boundaries into the model (backends/hard.py)
    seed: int = 0
    device: str = "cpu"
    threads: int = 1  # CPU threads for torch (0: torch's default); see the README's Benchmarks
    precision: str = "float32"  # or float64
    checkpoint_every: int = 250  # steps (Adam or L-BFGS iterations) between checkpoints
    log_every: int = 50

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __post_init__(self):
        if isinstance(self.compile, bool):  # run folders written before "auto" existed
            self.compile = "on" if self.compile else "off"

    @property
    def total_steps(self) -> int:
        return self.steps + self.lbfgs_steps
