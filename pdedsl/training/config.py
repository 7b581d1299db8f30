"""Training settings, with defaults that train the bundled 1-D, 1-D + time and 2-D specs well on a CPU."""

from __future__ import annotations

import json
import re
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Optional


FORMS = ("strong", "weak", "mixed")
SCHEDULES = ("fixed", "linear")
MODES = ("auto", "physics", "supervised", "hybrid")  # how operator backends learn
#: Settings only operator backends read (coding_batch is dgno's own, refused with its own message).
OPERATOR_SETTINGS = ("samples", "data", "mode", "batch_size", "grid", "test_samples", "test_data")
PRECISIONS = ("float32", "float64", "bf16")
OPTIMIZERS = ("lbfgs", "lm")  # the phase after Adam: L-BFGS, or Levenberg-Marquardt (training/levenberg.py)
LM_WIDTH = 20  # the PINN's default width under Levenberg-Marquardt (its solve grows with parameters^2)
#: Options of a form written as "weak(name: value, ...)": config attribute and value type.
FORM_OPTIONS = {
    "particles": ("weak_particles", int),
    "radius": ("weak_radius", float),
    "radius_min": ("weak_radius_min", float),
    "schedule": ("weak_schedule", str),
    "top_k": ("weak_top_k", int),
    "quadrature": ("weak_quadrature", int),
    "polish": ("weak_polish", int),
    "mismatch_power": ("weak_mismatch_power", float),
}

FORM_EXAMPLE = "weak(particles: 300, radius: 0.05)"


class FormError(ValueError):
    """A form's text (``--form``) that cannot be read, pointing at the part it cannot take: the message, then
    the text and carets under ``span`` (start, end: character offsets) on lines of their own."""

    def __init__(self, why: str, text: str, span: tuple[int, int] | None = None):
        self.why, self.text, self.span = why, text, span
        located = "" if span is None else f"\n    {text}\n    {' ' * span[0]}{'^' * max(span[1] - span[0], 1)}"
        super().__init__(why + located)


#: metrics.jsonl's records by default: every LOG_EVERY steps, and at least LOG_RECORDS of them in a short run.
LOG_EVERY, LOG_RECORDS = 50, 20

KIND_NAMES = {int: "a whole number", float: "a number", str: "a word"}
#: Fewest radial Gauss points a ball rule may have: with 2, weak Poisson trained to an error of 1.2 at a loss
#: as small as the default rule's (session 27); 4 gave 1.4e-2 and the default 4.4e-3.
MIN_QUADRATURE = 4
#: The largest whole number a count, size or seed may be: torch and numpy hold them in 64 bits, and a larger one
#: fails deep inside them ('Overflow when unpacking long long'), naming no setting.
MAX_WHOLE = 2 ** 63 - 1
#: Most CPU threads a run may ask for: more than any machine has cores (torch.set_num_threads takes up to 2^31 - 1,
#: but OpenMP, failing to start some 100000 threads, ends the process with no word of pdedsl's).
MAX_THREADS = 1024
_KIND_WORDS = {**KIND_NAMES, bool: "True or False", dict: "a dict", type(None): "None"}
#: Settings that take one of a few words (None, where allowed, picks the default).
CHOICES = {"sampling": ("uniform", "rad"), "compile": ("auto", "on", "off"),
           "derivatives": ("auto", "forward", "autograd")}


def is_ascii_number(text: str) -> bool:
    """Whether ``text`` is free of characters beyond ASCII, as a number read from the user must be: ``int`` and
    ``float`` take every script's decimal digits ('١٠' is 10) and other spaces, which pass unseen."""
    return text.isascii()


def _refuse_beyond_64_bits(label: str, value) -> None:
    """ValueError naming ``label`` if the whole number ``value`` is beyond :data:`MAX_WHOLE` either way."""
    if isinstance(value, int) and abs(value) > MAX_WHOLE:
        raise ValueError(f"{label} must be at most {MAX_WHOLE} (got {value})")


def setting_kind_error(name: str, value, allowed: tuple, what: str = "the setting") -> str | None:
    """Why ``value`` cannot be the setting ``name``, annotated with the kinds ``allowed``; None when it can."""
    if any(_is_kind(value, kind) for kind in allowed):
        return None
    return f"{what} {name} takes {' or '.join(_KIND_WORDS.get(k, k.__name__) for k in allowed)}, not {value!r}"


def _is_kind(value, kind) -> bool:
    """``value`` fits a setting annotated ``kind`` (a whole number fits a float; a bool is no number)."""
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


#: Levenberg-Marquardt steps by default: (strong and mixed form, weak form). A weak step fits 200 balls
#: (a strong one 1000 points) and costs about half as much, and weak 2-D Poisson was still improving after
#: 200 steps: 2.1e-6 there, 7.2e-7 after 500 (seed 1; README Weak forms).
LM_STEPS = (200, 500)


class TermWeights(dict):
    """``--weight`` values by loss term; a vector relation's components (``momentum_1[0]``) take the weight given
    to the relation's name (``momentum_1``) unless given their own."""

    def get(self, name, default=None):
        if name in self:
            return self[name]
        return super().get(name.split("[", 1)[0], default)

    def names_matched(self, terms) -> set[str]:
        """The weight names that some of ``terms`` take (by name or as a vector relation's component)."""
        return {name for name in self if any(term == name or term.startswith(name + "[") for term in terms)}


def operator_settings_refused(names: list[str], backend: str) -> str:
    """Why the settings ``names``, which only operator backends read, are refused on ``backend``."""
    return (f"{', '.join(names)} {'sets' if len(names) == 1 else 'set'} how operator backends learn a family of "
            f"problems; the {backend} backend solves one problem and does not read "
            + ("it" if len(names) == 1 else "them"))


@dataclass
class TrainConfig:
    backend: str = "pinn"
    backend_options: dict = field(default_factory=dict)  # e.g. {"width": 64, "depth": 4}
    steps: int = 1000  # Adam steps
    lbfgs_steps: Optional[int] = None  # steps of the phase after Adam (0: none; None: 2000, lm LM_STEPS, operators 0)
    # that phase: "lbfgs", or "lm" (Levenberg-Marquardt, fresh points every step; the PINN's default, with
    # a network of width LM_WIDTH unless given; None picks lm for the PINN, lbfgs with --derivatives autograd
    # or the mixed form)
    optimizer: Optional[str] = None
    learning_rate: float = 1e-3
    decay: float = 0.1  # the Adam learning rate falls geometrically to learning_rate * decay
    interior_points: int = 1000  # per equation target
    boundary_points: int = 400  # per boundary or initial target
    resample_every: Optional[int] = None  # Adam steps between fresh points (None: 100, operators 1)
    sampling: Optional[str] = None  # "uniform" or "rad": points drawn where the residual is large (objective.py);
    # None: rad with lm, else uniform
    weights: dict = field(default_factory=dict)  # residual or term name -> loss weight (default 1)
    form: str = "strong"  # "weak" or "mixed": equations tested against Wendland functions (training/weak.py)
    weak_particles: int = 200  # particles (test balls) per equation target and draw
    weak_radius: float = 0.0  # largest particle radius (0: a tenth of the target's narrowest side)
    weak_radius_min: float = 0.0  # smallest particle radius (0: a tenth of the radius in float64, half of it in
    # float32 and for the mixed form; training/weak.py RADIUS_MIN_FRACTION)
    weak_schedule: str = "fixed"  # or "linear": the largest radius grows from weak_radius_min over the Adam steps
    weak_quadrature: int = 0  # radial Gauss points of the ball rule (0: 8 in 1-D (both halves), 5 in 2-D and 6 in
    # 3-D; 8 in 2-D and 3-D in the Levenberg-Marquardt phase; training/weak.py)
    weak_polish: Optional[int] = None  # last Levenberg-Marquardt steps with at least a ball per parameter (None:
    # 50 in every dimension, 3-D since session 32; training/weak.py POLISH_STEPS)
    weak_mismatch_power: float = 2.0  # the mixed form's flux mismatch is weighed by stiffness^-p (2: the gradient's
    # fit to flux / stiffness, unbiased across a jump; 1: the energy norm, before session 24; training/weak.py)
    weak_top_k: int = 0  # add the mean of the k largest squared particle residuals to each weak loss (0: off)
    instance: Optional[int] = None  # solve the spec's random inputs/params drawn with this seed (runtime/instances.py)
    instance_grid: int = 0  # grid nodes per axis for a drawn random input (0: 1025, 257 or 65 in 1-3 D)
    samples: int = 1000  # operator backends: members drawn from the priors (or the first of --data)
    data: Optional[str] = None  # operator backends: labelled members written by `pdedsl data`
    mode: str = "auto"  # operator backends: physics, supervised, hybrid (auto: supervised with data)
    batch_size: int = 50  # operator backends: members per step
    coding_batch: int = 0  # dgno: members coded and reconstructed per step, the batch's and more (0: the batch)
    grid: int = 0  # operator backends: sensor nodes per axis (0: the data's grid, else 129, 29, 17 in 1-3 D)
    average: float = 0.0  # Adam's iterates averaged with this decay (e.g. 0.999; 0: off); the average becomes the
    # model when Adam ends (Trainer._average)
    kl_warmup: float = 0.5  # dgno: the KL term's weight grows from 0 over this fraction of the Adam steps
    test_samples: int = 100  # operator backends: held-out members solved by the reference solver
    test_data: Optional[str] = None  # operator backends: held-out labelled members instead
    derivatives: str = "auto"  # auto | forward | autograd (runtime/derivatives.py)
    compile: str = "auto"  # torch.compile the residuals: on, off, or auto (training/compiling.py: worth_compiling)
    hard_dirichlet: bool = True  # build u = g on whole box boundaries and u = h at t0 into the model (backends/hard.py)
    hard_initial: bool = True  # the u = h at t0 part (False in run folders written before it existed)
    hard_vectors: bool = True  # components of vector conditions, (ux, uy) = (0, 0) (False in older run folders)
    seed: int = 0
    device: str = "cpu"
    # CPU threads for torch (0: torch's default; None: 1, and every core for the Levenberg-Marquardt phase's
    # dense solves when training in one process); see the README's Benchmarks
    threads: Optional[int] = None
    precision: Optional[str] = None  # float32, float64, or bf16: float32 with bfloat16 matmuls in label terms
    # (operators.py); None: float64 for the weak form under Levenberg-Marquardt in 1-D and 2-D, else float32
    # (resolved by the run, which knows the dimension: training/weak.py default_precision)
    checkpoint_every: int = 250  # steps (Adam or L-BFGS iterations) between checkpoints
    log_every: Optional[int] = None  # steps between records of metrics.jsonl (None: log_interval chooses)
    # steps between held-out evaluations of the current iterate (exact solutions, references or the test
    # members), logged beside the losses in metrics.jsonl and drawn by `plot`; 0: only at the end
    init: Optional[str] = None  # a run folder whose trained weights this run starts from (--init: fine-tuning)
    eval_every: int = 500

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        # older run folders: their models were trained with soft initial values, by L-BFGS, without polish,
        # with the energy-norm flux mismatch
        data = {"hard_initial": False, "hard_vectors": False, "optimizer": "lbfgs", "weak_polish": 0, "kl_warmup": 0.0,
                "weak_mismatch_power": 1.0, **data}
        return cls(**{k: v for k, v in data.items() if k in known})

    def __post_init__(self):
        from ..backends import available, is_operator

        if isinstance(self.compile, bool):  # run folders written before "auto" existed
            self.compile = "on" if self.compile else "off"
        self.check_types()
        if self.backend not in available():
            raise ValueError(f"unknown backend '{self.backend}' (available: {', '.join(available())})")
        self.weights = TermWeights(self.weights)
        operator = is_operator(self.backend)  # operators see a new mini-batch of members every step
        if "(" in self.form or self.form not in FORMS:
            self.apply_form(self.form)
        if self.optimizer is None:  # (mixed: a row per flux point and component makes an lm step ~25x a weak one)
            self.optimizer = ("lm" if self.backend == "pinn" and self.derivatives != "autograd"
                              and self.form != "mixed" else "lbfgs")
        if self.sampling is None:
            self.sampling = "rad" if self.optimizer == "lm" else "uniform"
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{self.optimizer}' (expected one of: {', '.join(OPTIMIZERS)})")
        if self.optimizer == "lm" and operator:
            raise ValueError("the Levenberg-Marquardt optimizer is for the PINN backend (operators have too many "
                             "parameters for its per-step solve); use --optimizer lbfgs")
        if self.optimizer == "lm" and self.derivatives == "autograd":
            raise ValueError("--optimizer lm needs the forward derivative engine, which --derivatives autograd "
                             "turns off: leave --derivatives out, or use --optimizer lbfgs")
        if self.sampling == "rad" and operator:
            raise ValueError("adaptive sampling (--sampling rad) is for the PINN backend: an operator's points are "
                             "shared by a new mini-batch of members every step; leave --sampling out")
        if self.lbfgs_steps is None:
            self.lbfgs_steps = 0 if operator else 2000 if self.optimizer != "lm" else LM_STEPS[self.form == "weak"]
        if self.resample_every is None:
            self.resample_every = 1 if operator else 100
        if self.form not in FORMS:
            raise ValueError(f"unknown form '{self.form}' (expected one of: {', '.join(FORMS)})")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision '{self.precision}' (expected one of: {', '.join(PRECISIONS)})")
        if self.mode not in MODES:
            raise ValueError(f"unknown training mode '{self.mode}' (expected one of: {', '.join(MODES)})")
        if not 0.0 <= self.kl_warmup <= 1.0:
            raise ValueError(f"kl_warmup is a fraction of the Adam steps, between 0 and 1 (got {self.kl_warmup})")
        if not 0.0 <= self.average < 1.0:
            raise ValueError(f"average is the decay of a moving average, in [0, 1) (got {self.average})")
        self.check_counts()
        if not 0.0 <= self.weak_mismatch_power <= 4.0:
            raise ValueError(f"mismatch_power weighs the flux mismatch by stiffness^-p, p in [0, 4] "
                             f"(got {self.weak_mismatch_power})")
        if self.weak_schedule not in SCHEDULES:
            raise ValueError(f"unknown radius schedule '{self.weak_schedule}' (expected one of: {', '.join(SCHEDULES)})")

    def _refuse_operator_settings(self) -> None:
        """A setting only operator backends read, set on a backend that solves one problem, does nothing:
        refuse it rather than let a user believe it took effect."""
        defaults = {item.name: item.default for item in fields(TrainConfig) if item.name in OPERATOR_SETTINGS}
        given = [name for name, default in defaults.items() if getattr(self, name) != default]
        if given:
            raise ValueError(operator_settings_refused(given, self.backend))

    def check_types(self) -> None:
        """Refuse a setting of the wrong kind (``steps="10"``, ``steps=2.5``, ``seed=None``) or a word that
        names no choice (``sampling="bogus"``), naming the setting: from Python, ``fit(...)`` passes them
        through unchecked by argparse."""
        hints = typing.get_type_hints(TrainConfig)
        for item in fields(self):
            value = getattr(self, item.name)
            error = setting_kind_error(item.name, value, typing.get_args(hints[item.name]) or (hints[item.name],))
            if error is not None:
                raise TypeError(error)
        for name, choices in CHOICES.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool) and value not in choices:
                raise ValueError(f"unknown {name} '{value}' (expected one of: {', '.join(choices)})")
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise ValueError(f"unknown device '{self.device}' (expected cpu, cuda or cuda:N)")

    def check_counts(self) -> None:
        """Refuse counts, rates and sizes no run can use (a negative step count, a batch of 0, lr <= 0)."""
        import math
        import sys

        at_least = {"steps": 0, "lbfgs_steps": 0, "interior_points": 1, "boundary_points": 1, "weak_particles": 1,
                    "batch_size": 1, "coding_batch": 0, "samples": 1, "test_samples": 0, "grid": 0, "checkpoint_every": 1,
                    "log_every": 1, "eval_every": 0, "resample_every": 1, "weak_top_k": 0, "weak_quadrature": 0,
                    "weak_polish": 0, "instance": 0, "instance_grid": 0, "threads": 0}
        from ..backends import is_operator

        if not is_operator(self.backend):
            self._refuse_operator_settings()
        for name, low in at_least.items():
            value = getattr(self, name)
            label = f"the weak form's {name[5:]}" if name.startswith("weak_") else name
            if value is not None and value < low:
                raise ValueError(f"{label} must be at least {low} (got {value})")
            _refuse_beyond_64_bits(label, value)
        if self.coding_batch and self.backend != "dgno":
            raise ValueError(f"coding_batch (--coding-batch) sizes the dgno backend's autoencoder; the {self.backend} "
                             "backend has none")
        if 0 < self.coding_batch < self.batch_size:
            raise ValueError(f"coding_batch counts the batch's members and more: at least the batch "
                             f"({self.batch_size}), or 0 for the batch alone (got {self.coding_batch})")
        if self.weak_top_k > self.weak_particles:
            raise ValueError(f"the weak form's top_k ({self.weak_top_k}) is more than its particles "
                             f"({self.weak_particles}): the k largest residuals would be all of them")
        if 0 < self.weak_quadrature < MIN_QUADRATURE:
            raise ValueError(f"the weak form's quadrature must be 0 (the default) or at least {MIN_QUADRATURE} radial "
                             f"points (got {self.weak_quadrature}): fewer do not integrate the test functions, and "
                             "training fits a wrong solution")
        if self.grid and self.grid < 3:
            raise ValueError(f"grid must be 0 (the default) or at least 3 nodes per axis (got {self.grid})")
        for name in ("learning_rate", "decay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number (got {value})")
        if self.decay > 1:  # a rate rising to lr * decay: no schedule anyone means, and soon non-finite
            raise ValueError(f"decay is the factor the learning rate falls by over the Adam steps, in (0, 1] "
                             f"(got {self.decay:g})")
        for option, name in (("radius", "weak_radius"), ("radius_min", "weak_radius_min")):
            value = getattr(self, name)
            if not (math.isfinite(value) and (value == 0 or value >= sys.float_info.min)):  # (1/r must not overflow)
                raise ValueError(f"the weak form's {option} must be a positive number of at least "
                                 f"{sys.float_info.min:.2g}, or 0 for the default (got {value:g})")
        if 0 < self.weak_radius < self.weak_radius_min:
            raise ValueError(f"the weak form's radius_min ({self.weak_radius_min:g}) is larger than its radius "
                             f"({self.weak_radius:g})")
        self._check_backend_option_kinds()
        for name, low in (("width", 1), ("depth", 1), ("modes", 1), ("latent", 1), ("encoder_width", 1),
                          ("encoder_depth", 1), ("input_width", 1), ("fourier_features", 0)):
            value = self.backend_options.get(name)
            if value is not None and value < low:
                raise ValueError(f"the backend's {name} must be at least {low} (got {value})")
            _refuse_beyond_64_bits(f"the backend's {name}", value)
        _refuse_beyond_64_bits("seed", self.seed)
        if self.threads is not None and self.threads > MAX_THREADS:
            raise ValueError(f"threads must be at most {MAX_THREADS} (got {self.threads})")
        for name, weight in self.weights.items():
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"the weight of '{name}' must be a number >= 0 (got {weight})")

    def _check_backend_option_kinds(self) -> None:
        """Refuse a backend option of the wrong kind (``solver(width="20")``, ``width=2.5``, ``seed=None``),
        naming it: from Python they reach the network's constructor unchecked, and torch's message names none."""
        from ..backends import option_kinds

        kinds = option_kinds(self.backend)
        for name, value in self.backend_options.items():
            error = setting_kind_error(name, value, kinds[name], "the backend option") if name in kinds else None
            if error is not None:
                raise TypeError(error)
        self._check_backend_option_words()

    def _check_backend_option_words(self) -> None:
        """Refuse an option the backend lacks (``--encoder`` on a PINN) or an activation it lacks, with those it
        has: refused with the other settings (a usage error, as ``--backend bogus`` is) rather than when the
        network is built."""
        from ..backends import BackendOptionError, activations, option_kinds

        offered = [name for name in option_kinds(self.backend) if name != "seed"]
        unknown = sorted(set(self.backend_options) - set(offered) - {"seed"})
        if offered and unknown:
            raise BackendOptionError(f"the {self.backend} backend has no option(s) {', '.join(unknown)} "
                                     f"(its options: {', '.join(offered)})")
        known = activations(self.backend)
        for name in ("activation", "input_activation", "input_branch_activation"):
            value = self.backend_options.get(name)
            if isinstance(value, str) and known and value not in known:
                what = "activation" if name == "activation" else name.replace("_", " ")
                raise BackendOptionError(f"unknown {what} '{value}' for the {self.backend} backend "
                                         f"(available: {', '.join(known)})")

    def apply_form(self, text: str) -> None:
        """Set the form and its options from ``"weak(particles: 300, radius: 0.05, schedule: linear)"``.

        The text is split by hand, never evaluated; the form is one of FORMS, each option one of FORM_OPTIONS
        and its value a number or a word. A FormError points into the text at what it cannot take.
        """
        match = re.fullmatch(r"\s*(\w+)\s*(?:\((.*)\))?\s*", text)
        if match is None:
            raise FormError(f"cannot read the form '{text}': expected a form, as in {FORM_EXAMPLE}", text)
        if match.group(1) not in FORMS:
            raise FormError(f"unknown form '{match.group(1)}' (the forms: {', '.join(FORMS)}; options ride along, "
                            f"as in {FORM_EXAMPLE})", text, match.span(1))
        self.form = match.group(1)
        seen = set()
        offset = match.start(2) if match.group(2) is not None else len(text)
        for item in (match.group(2) or "").split(","):
            start, offset = offset, offset + len(item) + 1
            if not item.strip():
                continue
            where = (start + len(item) - len(item.lstrip()), start + len(item.rstrip()))
            key, colon, value = item.partition(":") if ":" in item else item.partition("=")
            key, value = key.strip(), value.strip()
            at_value = (where[1] - len(value), where[1])
            if not colon or key not in FORM_OPTIONS:
                raise FormError(f"unknown form option '{item.strip()}' (known: {', '.join(FORM_OPTIONS)}, "
                                "written as name: value)", text, where)
            if self.form == "strong":
                raise FormError(f"the strong form takes no options (got '{key}'); they are the weak and mixed "
                                "forms' test balls", text, where)
            if key == "mismatch_power" and self.form != "mixed":
                raise FormError("mismatch_power weighs the mixed form's flux mismatch: write mixed(mismatch_power: "
                                f"...), not {self.form}(...)", text, where)
            if key in seen:
                raise FormError(f"form option '{key}' is given twice", text, where)
            seen.add(key)
            attribute, kind = FORM_OPTIONS[key]
            if kind is not str and not is_ascii_number(value):
                raise FormError(f"form option '{key}' needs {KIND_NAMES[kind]} written with the ASCII digits 0-9, "
                                f"got '{value}'", text, at_value)
            try:
                setattr(self, attribute, kind(value))
            except ValueError:
                raise FormError(f"form option '{key}' needs {KIND_NAMES[kind]}, got '{value}'", text,
                                at_value) from None

    def grid_points(self, problem) -> int:
        """Sensor nodes per axis for an operator backend drawing its own members."""
        from ..runtime.family import default_grid

        return default_grid(problem, self.grid)

    @property
    def total_steps(self) -> int:
        return self.steps + self.lbfgs_steps

    @property
    def log_interval(self) -> int:
        """Steps between records of ``metrics.jsonl``: ``log_every`` if given, else 50, or fewer so that even a
        short run logs ``LOG_RECORDS`` records (every step under twice that many): plot's loss panel showed
        a single point for a run under 50 steps."""
        if self.log_every is not None:
            return self.log_every
        return max(1, min(LOG_EVERY, self.total_steps // LOG_RECORDS))
