"""A training run: its folder, the loop (Adam then L-BFGS), checkpoints, resume, results.

A run folder holds::

    solver.py        the generated module (the residuals trained on)
    spec.pde         a copy of the spec, its data files' names pointing into data/
    data/            copies of the data files the spec names (observe, reference, input ... from)
    config.json      the TrainConfig
    checkpoint.pt    model, optimiser and step; written atomically, loads with weights_only=True
    metrics.jsonl    one JSON object per logged step (losses, learning rate, wall time)
    result.json      the final summary (relative L2 per field, steps, wall time, inferred params)
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import shlex
import shutil
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional

import torch

from .. import api, compiler
from ..backends import create, is_operator, new_run_options
from ..backends.hard import HardDirichlet
from ..codegen import load_module
from ..errors import Diagnostic, PdeError
from ..files import json_text, write_text
from ..runtime.family import draw_pool, piecewise_inputs
from . import checkpoint
from .config import LM_WIDTH, TrainConfig
from .folder_lock import training_lock
from .distributed import CONTEXT
from .levenberg import LevenbergMarquardt
from .data_checks import data_warnings
from .metrics import accuracy
from .objective import Objective
from .operators import OperatorObjective, held_out_pool, mode_of, training_pool
from .spec_copy import DATA_FOLDER, copy_spec, place
from .stopping import StopRequest, Stopped, stop_requests
from .progress import Progress
from .weak import default_precision, mixed_outputs

#: The data files a run is trained and tested on, kept in its folder under these names (a spec's own data
#: files are kept beside them under their own names).
KEPT_DATA = {"data": "members.train.npz", "test_data": "members.test.npz"}
#: What training writes into a run folder (a retrain in place sets them aside in PREVIOUS first).
RESULTS = ("checkpoint.pt", "metrics.jsonl", "result.json", "test.npz", "inference.json", "laplace.pt")
PREVIOUS = "previous"
#: What a run folder holds before its first training step: nothing learned (see removed_if_left_empty).
SET_UP_FILES = frozenset({".lock", "config.json", "spec.pde", "solver.py", "instance.npz", DATA_FOLDER,
                          *KEPT_DATA.values()})

LBFGS_REDRAW = 500  # L-BFGS iterations between redraws of adaptive points and weak-form particles
LBFGS_CHUNK = 10


class RunError(PdeError):
    """A run folder cannot be used (missing, from another spec, corrupt)."""


class StepsBelowCheckpoint(RunError):
    """``--resume --steps N`` below the Adam steps the run has taken: an option the folder cannot take."""


def _dtype(config: TrainConfig):
    return {"float32": torch.float32, "float64": torch.float64, "bf16": torch.float32}[config.precision]


class Run:
    """Everything a run needs, rebuilt the same way for training, resuming and prediction."""

    def __init__(self, spec_path: Path, config: TrainConfig, folder: Path, progress: bool = False,
                 trained: bool = False):
        """``trained``: the folder's checkpoint will be loaded, so a drawn training pool (seconds to minutes
        for 10^4 members and more) is drawn only if something asks for it (:attr:`pool`)."""
        self.spec_path, self.config, self.folder = Path(spec_path), config, Path(folder)
        self.problem = api.load(self.spec_path)
        self.source = compiler.generate(compiler.lower(self.problem), self.spec_path.name)
        self.module = load_module(self.source, f"pdedsl_run_{self.problem.name}")
        if config.precision is None:  # saved resolved in config.json, so a resumed run keeps it
            config.precision = default_precision(config, len(self.problem.axes))
        self.dtype, self.device = _dtype(config), CONTEXT.device(torch.device(config.device))
        if config.threads != 0:
            torch.set_num_threads(config.threads or 1)
        torch.manual_seed(config.seed)
        options = {"seed": config.seed, **config.backend_options}
        if config.optimizer == "lm" and config.backend == "pinn":
            options.setdefault("width", LM_WIDTH)
        if config.form == "mixed":
            options["auxiliary"] = mixed_outputs(self.module)
        self.operator = is_operator(config.backend)
        self._pool = self.test = self.layout = None
        self.checkpoint_mark = None  # which checkpoint the model holds (load_checkpoint): caches made from it say so
        self.no_test_reason = ""
        self.progress = progress
        members = None  # the members the objective is built on
        if self.operator:  # the members it learns from fix the sensor layout the networks read
            if trained and not config.data:  # one member gives the layout; the checkpoint has the rest
                members = draw_pool(self.problem, 1, config.grid_points(self.problem), config.seed)
            else:
                members = self._pool = self._training_pool()
            self.layout = options["layout"] = members.layout
        self.model = create(config.backend, self.problem, **options)
        if self.operator and not trained:  # (a checkpoint holds the statistics and any PCA basis)
            self.model.set_normalisation(members.operator_inputs())
        if config.hard_dirichlet:
            self.model = HardDirichlet(self.model, self.problem, initial=config.hard_initial,
                                       vectors=config.hard_vectors)
        self.model = self.model.to(self.device, self.dtype)
        if self.operator:
            self.objective = OperatorObjective(self.problem, self.module, self.model, config, self.dtype,
                                               self.device, members)
        else:
            self.objective = Objective(self.problem, self.module, self.model, config, self.dtype, self.device)

    @property
    def pool(self):
        """The members an operator trained on (drawn here on first use where the run was opened trained)."""
        if self._pool is None and self.operator:
            self._pool = self._training_pool()
        return self._pool

    def _training_pool(self):
        bar = Progress(self.config.samples, enabled=self.progress and not self.config.data)
        try:
            return training_pool(self.problem, self.config, bar)
        finally:
            bar.close()

    def prepare_test(self) -> None:
        """The held-out members an operator is measured on (generated once, kept as test.npz)."""
        if self.operator and self.test is None:
            bar = Progress(self.config.test_samples, enabled=self.progress)
            self.test, self.no_test_reason = held_out_pool(self.problem, self.config, self.folder,
                                                           self.layout, bar)
            bar.close()

    def evaluate(self) -> dict[str, Optional[float]]:
        """Relative L2 error per field: against exact or reference solutions, or (operators) the test members."""
        return self.accuracy()[0]

    def accuracy(self) -> tuple[dict[str, Optional[float]], dict[str, float]]:
        """:meth:`evaluate`'s relative errors, and the RMS errors a PINN's fields also get (metrics.accuracy)."""
        if self.operator:
            self.prepare_test()
            return (self.objective.test_errors(self.test) if self.test is not None else {}), {}
        return accuracy(self.problem, self.module, self.model, self.objective.params, self.dtype, self.device)

    @classmethod
    def open(cls, folder: Path) -> "Run":
        folder = Path(folder)
        _refuse_a_folder_without_run_files(folder)
        _refuse_folders_in_place_of_results(folder)
        config = _read_config(folder)
        run = cls(folder / "spec.pde", config, folder, trained=True)
        state = run.load_checkpoint()
        if state is None:
            raise RunError(f"{folder} has no checkpoint yet: it was stopped (or is still training) before its first; "
                           f"train it on with: pdedsl train --resume {shlex.quote(str(folder))}")
        run.model.eval()  # an opened run answers questions (training builds its own, in train mode)
        return run

    # ---- persistence ----
    def prepare_folder(self, resume: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for partial in self.folder.glob(".*.tmp"):  # a write a kill cut short (files.replacing); the lock is ours
            partial.unlink(missing_ok=True)
        if not resume:
            self._set_aside_previous_run()
        if self.spec_path.resolve() != (self.folder / "spec.pde").resolve():
            copy_spec(self.spec_path, self.problem, self.folder)
        (self.folder / "solver.py").write_text(self.source, encoding="utf-8")
        kept = self._keep_data_files()
        write_text(self.folder / "config.json", dataclasses.replace(self.config, **kept).to_json())
        if self.objective.instance is not None:  # the drawn problem, for reference solvers and the curious
            self.objective.instance.save(self.folder / "instance.npz")

    def _set_aside_previous_run(self) -> None:
        """A run retrained in place keeps its predecessor (checkpoint, logs, results, and copies or links of the
        files that open it) in ``previous/``, one generation deep: a retrain begun by mistake, or killed before
        its first checkpoint, loses nothing (``pdedsl plot DIR/previous`` still draws the old run)."""
        old = [self.folder / name for name in RESULTS if (self.folder / name).exists()]
        if not old:
            return
        kept = self.folder / PREVIOUS
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir()
        for path in old:
            os.replace(path, kept / path.name)
        for name in ("config.json", "spec.pde", "solver.py", "instance.npz", *KEPT_DATA.values()):
            if (self.folder / name).is_file():  # (links only to what is replaced, not rewritten, in the folder)
                place(self.folder / name, kept / name, link=name in KEPT_DATA.values())
        data = self.folder / DATA_FOLDER
        if data.is_dir():
            for path in data.rglob("*"):
                if path.is_file():
                    place(path, kept / path.relative_to(self.folder), link=True)
        print(f"pdedsl: note: the run {self.folder} held is kept in {kept} (replacing any kept there before)",
              file=sys.stderr)

    def _keep_data_files(self) -> dict[str, str]:
        """Put the ``--data`` and ``--test-data`` files into the folder (hard links where the file system allows),
        so that predict, plot and resume outlive the originals; returns the options' new values, names inside
        the folder (``_read_config`` resolves them)."""
        kept = {}
        for option, name in KEPT_DATA.items():
            path = getattr(self.config, option)
            if not path:
                continue
            place(Path(path), self.folder / name, link=True)
            kept[option] = name
        return kept

    def state(self, step: int, optimizer, phase: str, wall: float, batches=None) -> dict:
        return {
            "batches": batches,
            "learning_rate": self.config.learning_rate,
            "model": self.model.state_dict(),
            "params": {k: v.detach().clone() for k, v in self.objective.params.items()
                       if isinstance(v, torch.nn.Parameter)},
            "optimizer": optimizer.state_dict(),
            "step": step, "phase": phase, "wall": wall,
            "torch_rng": torch.get_rng_state(),
            # DGNO's reparametrised draws come from the GPU's own generator
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None,
        }

    def load_checkpoint(self):
        path = self.folder / "checkpoint.pt"
        if not path.is_file():
            return None
        state = self._read_checkpoint(path)
        try:
            self._load_weights(state)
        except (RuntimeError, KeyError, TypeError, AttributeError) as error:
            if self._spec_copy_edited():
                raise RunError(f"{self.folder / 'spec.pde'} no longer matches the checkpoint (edited since the "
                               f"run?): the network it describes does not take {path}'s weights ({_detail(error)}); "
                               "restore the spec as it was trained, or train the edited spec in a run of its own "
                               f"('pdedsl train SPEC --out NEW')") from None
            raise RunError(f"{path} does not hold this run's network ({_detail(error)}); it belongs to another "
                           "run or is not a pdedsl checkpoint") from None
        self.checkpoint_mark = [float(state["step"]), float(state.get("wall", 0.0))]
        return state

    def _spec_copy_edited(self) -> bool:
        """Whether this run reads its folder's spec copy and that no longer gives the residuals its solver.py
        was generated with: then a checkpoint that does not fit is the spec's doing, not the checkpoint's."""
        if self.spec_path.resolve() != (self.folder / "spec.pde").resolve():
            return False
        try:
            before = (self.folder / "solver.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        return _generated_body(before) != _generated_body(self.source)

    def start_from(self, other: Path) -> None:
        """Begin with the trained weights of the run in ``other`` (``--init``): the same spec's family, backend
        and network sizes; this run's own optimiser and learning-rate schedule start afresh (fine-tuning,
        or a change of objective part way)."""
        path = Path(other) / "checkpoint.pt"
        if not path.is_file():
            raise RunError(f"--init {other}: no checkpoint there (a run folder of 'pdedsl train' is needed)")
        try:
            state = self._read_checkpoint(path)
        except RunError as error:  # (its advice to delete the checkpoint is for the run it belongs to)
            raise RunError(f"--init {other}: {str(error).split('; delete it')[0]}; train from another run") from None
        try:
            self._load_weights(state)
        except (RuntimeError, KeyError, TypeError, AttributeError) as error:  # missing, unexpected or mis-sized
            raise RunError(f"--init {other}: its network does not fit this run's (the same backend, sizes and "
                           f"fields are needed): {_detail(error)}") from None
        theirs, _ = _problem_of_run(Path(other))  # (said once the weights are known to fit, as it claims)
        if theirs is not None and theirs != self.problem.name and CONTEXT.main:
            print(f"pdedsl: warning: --init {other} was trained on problem '{theirs}', not '{self.problem.name}'; "
                  "its weights fit this network's shapes, so they are used", file=sys.stderr)

    def _read_checkpoint(self, path: Path) -> dict:
        try:
            state = checkpoint.load(path, str(self.device))
        except Exception:  # noqa: BLE001 - any unreadable checkpoint is reported the same way
            size = path.stat().st_size if path.exists() else 0
            raise RunError(f"cannot read {path} ({'an empty file' if size == 0 else f'{size} bytes'}): it is "
                           "truncated or not a pdedsl checkpoint; delete it to start the run afresh") from None
        if not isinstance(state, dict) or "model" not in state or "step" not in state:
            raise RunError(f"{path} is not a pdedsl checkpoint (no model weights or step in it)")
        _refuse_non_finite_weights(state, path)
        wall = state.get("wall", 0.0)
        if not _is_step(state["step"]):
            wrong = f"its step is {state['step']!r}, not a whole number >= 0"
        elif isinstance(wall, bool) or not isinstance(wall, (int, float)):
            wrong = f"its wall time is {wall!r}, not a number of seconds"
        else:
            return state
        raise RunError(f"{path} is not a pdedsl checkpoint ({wrong}); delete it to start the run afresh")

    def _load_weights(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        with torch.no_grad():
            for name, value in state["params"].items():
                if name not in self.objective.params:
                    raise RuntimeError(f"no parameter '{name}' here")
                self.objective.params[name].copy_(value)


def _refuse_non_finite_weights(state: dict, path: Path) -> None:
    """Refuse a checkpoint whose weights or trained parameters hold NaN or infinity: training never saves such
    weights (a non-finite step is skipped), so the file is damaged; read, it made predict write NaN values and
    --resume skip every step, both ending as if all were well."""
    tensors = dict(state["model"]) if isinstance(state["model"], dict) else {}
    params = state.get("params")
    tensors.update(params if isinstance(params, dict) else {})
    for name, value in tensors.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise RunError(f"{path} is damaged: its weights hold NaN or infinite values ('{name}'), which training "
                           "never saves; delete it to start the run afresh (or train it again)")


def _is_step(value) -> bool:
    """Whether a checkpoint's 'step' is one: a whole number >= 0 (not text, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _detail(error: BaseException) -> str:
    """The last line of a loader's message (load_state_dict's names the offending tensors there)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _read_config(folder: Path) -> TrainConfig:
    """The run's TrainConfig from its config.json; a damaged file is the user's to hear about, not a traceback."""
    try:
        config = TrainConfig.from_dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, TypeError, ValueError) as error:
        raise RunError(f"{folder / 'config.json'} cannot be read ({error}); the run folder is damaged") from None
    for option in KEPT_DATA:  # a kept data file is named relative to the folder (older runs: absolute paths)
        path = getattr(config, option)
        if path and not Path(path).is_absolute():
            setattr(config, option, str(folder / path))
    return config


def _check_folder_is_free(folder: Path, problem: str, spec_path=None) -> None:
    """A new run of ``problem`` may retrain a folder of the same problem, never overwrite another problem's run
    (finished or killed part way) or a posterior of ``pdedsl infer``."""
    if (folder / "posterior.npz").is_file():
        raise RunError(f"{folder} holds a posterior of 'pdedsl infer'; train into another folder (--out), or delete "
                       "that one first")
    previous, finished = _problem_of_run(folder)
    if previous is not None and previous != problem:
        what = "a finished run" if finished else "a run killed part way (pdedsl train --resume continues it)"
        raise RunError(f"{folder} holds {what} of problem '{previous}'; train '{problem}' into another folder "
                       "(--out), or delete that one first")
    if previous is None:
        foreign = _foreign_files(folder, spec_path)
        if foreign:
            raise RunError(f"{folder} holds {', '.join(foreign)}, not written by pdedsl; a run there would overwrite "
                           f"{'it' if len(foreign) == 1 else 'them'}: train into another folder (--out), or an empty "
                           "one")


#: Files a run writes at the top of its folder: one of these that pdedsl did not write is the user's.
RUN_FILES = ("spec.pde", "solver.py", "config.json", "checkpoint.pt", "metrics.jsonl", "result.json")


def _foreign_files(folder: Path, spec_path=None) -> list[str]:
    """The run files in ``folder`` that are not pdedsl's (a user's own spec.pde or solver.py in the folder named
    by --out were overwritten without a word). A folder whose config.json or solver.py pdedsl wrote is a run
    (one killed before its first checkpoint, say), and is retrained as such. The spec being trained is not
    foreign even there (Python's ``fit`` of a spec's text writes it into the folder first)."""
    trained = Path(spec_path).resolve() if spec_path is not None else None
    present = [name for name in RUN_FILES if (folder / name).exists() and (folder / name).resolve() != trained]
    if not present:
        return []
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        if isinstance(config, dict) and "backend" in config:
            return []
    except (OSError, ValueError):
        pass
    try:
        with open(folder / "solver.py", encoding="utf-8", errors="replace") as handle:
            if "generated by pdedsl" in handle.readline():
                return []
    except OSError:
        pass
    return present


def _problem_of_run(folder: Path) -> tuple[str | None, bool]:
    """The problem a folder's run trains (None where it holds none or it cannot be told), and whether it finished."""
    try:
        return json.loads((folder / "result.json").read_text(encoding="utf-8")).get("problem"), True
    except (OSError, ValueError, AttributeError):
        pass
    if not (folder / "checkpoint.pt").is_file() or not (folder / "spec.pde").is_file():
        return None, False
    try:
        return api.load(folder / "spec.pde").name, False
    except PdeError:
        return None, False


def _forget_metrics_after(path: Path, step: int) -> None:
    """Drop the records a killed run logged after its last checkpoint: the resumed run logs those steps again.
    A line that is not JSON text (cut short by the kill, or bytes a crash left) is dropped too."""
    try:  # (errors="replace": damaged bytes read as U+FFFD, and a line they break fails to parse and goes)
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return
    kept = []
    for line in lines:
        try:
            if int(json.loads(line).get("step", 0)) > step:
                continue
        except (ValueError, AttributeError, TypeError):
            continue  # a line cut short by the kill
        kept.append(line)
    if len(kept) != len(lines):
        write_text(path, "".join(line + "\n" for line in kept))


def _note_uneven_shares(config: TrainConfig, operator: bool) -> None:
    """Under --nproc every process holds an equal share of a draw; say which counts lose their remainder."""
    counts = ({"--batch": config.batch_size} if operator else
              {"--points": config.interior_points, "boundary points": config.boundary_points})
    if operator and config.coding_batch:
        counts["--coding-batch"] = config.coding_batch
    uneven = [f"{name} {count} -> {count - count % CONTEXT.world}" for name, count in counts.items()
              if count >= CONTEXT.world and count % CONTEXT.world]
    if uneven:
        print(f"pdedsl: note: {CONTEXT.world} processes take equal shares of each draw, so {', '.join(uneven)} "
              f"(give multiples of {CONTEXT.world} to use them all)", file=sys.stderr)


def nothing_to_train(problem, config: TrainConfig):
    """check's warning that ``problem`` has nothing to train when this run indeed cannot train anything (else
    None): no field, or no physics or observation to learn it from (an operator learning from labels needs no
    physics). Training refuses the spec with it, at the place check names."""
    from ..ir.build.statements import NO_FIELD, NOTHING_TO_TRAIN

    physics = problem.equations or problem.boundary_conditions or problem.initial_conditions
    labelled = is_operator(config.backend) and mode_of(config) != "physics"
    if problem.fields and (physics or problem.observations or labelled):
        return None
    said = NO_FIELD if not problem.fields else NOTHING_TO_TRAIN
    return next((w for w in problem.warnings if w.message == said), None) or Diagnostic(said, None)


def _check_something_to_train(problem, config: TrainConfig) -> None:
    """Refuse a spec without fields, physics or data before anything is built (a loss of nothing would fail
    deep inside the optimiser, a network of no outputs in its constructor), with check's message and place."""
    refusal = nothing_to_train(problem, config)
    if refusal is not None:
        message = problem.locate(refusal.span, refusal.message)
        raise RunError(message + (f"\nhint: {refusal.hint}" if refusal.hint else ""))


def folder_exists(folder) -> bool:
    """Whether the run folder ``folder`` is there; a path no folder can have (a name longer than the file
    system allows, such as ``runs/<problem name>`` for a very long problem name) is a RunError, not a crash."""
    try:
        os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):  # not there yet (mkdir then names a path through a file)
        return False
    except OSError as error:
        raise RunError(f"cannot use {folder} as a run folder: {error.strerror or error}") from None
    return True


@contextmanager
def removed_if_left_empty(folder: Path, existed: bool | None = None):
    """Remove ``folder`` again when the ``with`` block fails before training wrote anything there: only its lock
    and the set-up files (config, spec copy, generated solver, data copies, drawn instance) are in it
    (``existed``: whether it was there before, by default whether it is now).

    A failed ``train`` or ``infer`` (or ``fit``) should not leave a folder with nothing to resume or read behind.
    """
    existed = folder_exists(folder) if existed is None else existed
    try:
        yield
    except BaseException:
        if not existed and os.path.isdir(folder) and all(p.name in SET_UP_FILES for p in Path(folder).iterdir()):
            shutil.rmtree(folder, ignore_errors=True)
        raise


def check_new_run(spec_path, config: TrainConfig, folder) -> None:
    """What a new run can be refused for before anything is built: no CUDA for ``--device cuda``, data or
    ``--init`` that are not there, ``--init`` naming the run folder itself, a folder holding another problem's
    run or a posterior. ``pdedsl train --nproc`` checks these before torchrun starts its processes."""
    check_device(config)
    problem = api.load(spec_path)
    _check_something_to_train(problem, config)
    for option in ("data", "test_data", "init"):  # (the command line checks these; Python's fit does not)
        given = getattr(config, option)
        if given and not Path(given).exists():
            raise RunError(f"{option} {given}: no such {'run folder' if option == 'init' else 'file'}")
    if folder_exists(folder) and not Path(folder).is_dir():
        raise RunError(f"cannot use {folder} as a run folder: it is a file")
    if config.init and Path(config.init).resolve() == Path(folder).resolve():
        raise RunError(f"--init {config.init} is the run folder itself: the new run would overwrite the weights it "
                       "starts from; train into another folder (--out)")
    if Path(folder).is_dir():
        _check_folder_is_free(Path(folder), problem.name, spec_path)


def check_device(config: TrainConfig) -> None:
    if config.device.startswith("cuda") and not torch.cuda.is_available():
        raise RunError(f"--device {config.device}: this machine's torch ({torch.__version__}) sees no CUDA device; "
                       "train with --device cpu")


def _enforced(model) -> set:
    """The names of the conditions a model holds exactly (hard Dirichlet and initial values), if any."""
    for candidate in (model, getattr(model, "module", None)):
        enforced = getattr(candidate, "enforced", None)
        if isinstance(enforced, (set, frozenset)):
            return set(enforced)
    return set()


def train(spec_path, config: TrainConfig, folder, resume: bool = False, progress: bool = True) -> dict:
    """Train a run into ``folder``; returns the result summary (also written to result.json)."""
    check_device(config)
    if not resume:
        check_new_run(spec_path, config, folder)
    CONTEXT.start(torch.device(config.device))
    if not resume:  # recorded in config.json, so older folders rebuild as they were
        config.backend_options = {**new_run_options(config.backend), **config.backend_options}
    try:  # before the network is built: a file of that name, or a path through one, is refused at once
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunError(f"cannot use {folder} as a run folder: {error.strerror or error}") from None
    run = Run(spec_path, config, folder, progress and CONTEXT.main)
    if not run.operator:  # a reference is first needed at the end: a file that does not fit fails now, not then
        for message in data_warnings(run.problem):
            if CONTEXT.main and not resume:
                print(message, file=sys.stderr)
    if config.init and not (resume and (Path(folder) / "checkpoint.pt").is_file()):
        run.start_from(Path(config.init))  # (a resumed run's checkpoint holds where it got to, once it has one)
    if CONTEXT.main and run.operator and run.problem.observations and not resume:
        print("pdedsl: note: operator training ignores 'observe' statements (they are for 'pdedsl infer')",
              file=sys.stderr)
    if CONTEXT.main and CONTEXT.active and not resume:
        _note_uneven_shares(config, run.operator)
    if CONTEXT.main and config.compile == "on" and not resume and (run.operator or config.form != "strong"):
        what = (f"the {config.backend} backend's losses run eagerly" if run.operator else
                f"the {config.form} form's particle losses run eagerly (strong boundary and initial residuals, "
                "if any, are compiled)")
        print(f"pdedsl: note: --compile on compiles the strong-form residuals of a single-problem run; {what}",
              file=sys.stderr)
    jumping = sorted(piecewise_inputs(run.problem))
    if CONTEXT.main and config.form == "weak" and jumping and not resume:
        print(f"pdedsl: note: {', '.join(jumping)} jump{'s' if len(jumping) == 1 else ''} across interfaces, where "
              "test balls that straddle one integrate poorly; --form mixed is built for such coefficients",
              file=sys.stderr)
    if CONTEXT.main and run.operator and config.test_data and not resume:
        run.prepare_test()  # a --test-data file that does not fit fails before an earlier run here is cleared
    with training_lock(run.folder) if CONTEXT.main else nullcontext():
        if CONTEXT.main:  # one writer; the other ranks wait until the folder is ready
            if resume:
                _warn_if_the_spec_changed(run)
            run.prepare_folder(resume)
            run.prepare_test()  # before training, so a missing reference solver shows at once
        CONTEXT.barrier()
        result = Trainer(run, progress and CONTEXT.main).fit(resume)
        if CONTEXT.main:
            result = _with_posterior(run, config, result)
    # leave the process group before exit: torn down during interpreter shutdown instead, gloo's threads
    # sometimes abort the process ("terminate called without an active exception")
    CONTEXT.barrier()
    CONTEXT.stop()
    return result


def _with_posterior(run: Run, config: TrainConfig, result: dict) -> dict:
    """A fit of scalar unknowns to observations ends with their posterior (inference.py), whether it was started
    by ``train`` or ``infer``: ``result`` gains ``posterior`` and the folder ``inference.json``."""
    from .inference import infers_scalars, posterior_of_fit

    if not infers_scalars(run.problem, config):
        return result
    if CONTEXT.active:  # (the Jacobians are formed by one process over all the points)
        result["posterior"] = {"uncertainty_notes": [
            "no standard deviations for a run of several processes: 'pdedsl infer SPEC' on one gives them"]}
        write_text(run.folder / "result.json", json_text(result, indent=2))
        return result
    if run.progress:
        print("pdedsl: forming the posterior of " + ", ".join(result["params"]) + " (Laplace, at the fit)",
              file=sys.stderr)
    try:
        return posterior_of_fit(run.folder, run.problem, config, result)
    except (PdeError, MemoryError, KeyboardInterrupt, Stopped):
        raise
    except Exception as error:  # noqa: BLE001 - the trained run is kept whatever goes wrong after it
        if os.environ.get("PDEDSL_DEBUG"):
            raise
        result["posterior"] = {"uncertainty_notes": [f"no standard deviations: forming them failed "
                                                     f"({type(error).__name__}: {error}); the fit is kept"]}
        write_text(run.folder / "result.json", json_text(result, indent=2))
        return result


def _warn_if_the_spec_changed(run: Run) -> None:
    """A resumed run rebuilds its residuals from the folder's spec.pde: say so when they are not the ones its
    solver.py was generated with (the copy was edited, say), since the weights go on training on other physics."""
    try:
        before = (run.folder / "solver.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    if _generated_body(before) != _generated_body(run.source):
        folder = run.folder
        print(f"pdedsl: warning: {folder / 'spec.pde'} no longer gives the residuals this run was trained with "
              f"({folder / 'solver.py'}): the spec was edited since, or pdedsl generates them differently now; the "
              "run continues with the spec as it is. To train a changed spec from these weights in a run of its "
              f"own, use 'pdedsl train SPEC --init {folder} --out NEW'", file=sys.stderr)


def _generated_body(source: str) -> str:
    """A generated module without the lines naming the spec file and pdedsl's version (the first, SPEC and
    COMPILER_VERSION): a run's solver.py names the file it started from, a resumed one the folder's copy."""
    lines = source.splitlines()[1:]
    return "\n".join(line for line in lines if not line.startswith(("SPEC = ", "COMPILER_VERSION = ")))


def resume(folder, progress: bool = True, steps: int | None = None, threads: int | None = None) -> dict:
    """Continue the run in ``folder`` from its last checkpoint (with more Adam steps if ``steps`` is given, on
    ``threads`` CPU threads if given: a setting of the machine, not of the training, so a resume may change it;
    config.json keeps it for the resumes after)."""
    folder = Path(folder)
    config = check_resume(folder, steps)
    if steps is not None:
        config.steps = steps
    if threads is not None:
        config.threads = threads
    return train(folder / "spec.pde", config, folder, resume=True, progress=progress)


def _refuse_a_folder_without_run_files(folder: Path) -> None:
    """A RunError naming which of a run's own files ``folder`` lacks (config.json, spec.pde), if any."""
    missing = [name for name in ("config.json", "spec.pde") if not os.path.isfile(folder / name)]  # (too long: False)
    if missing:
        raise RunError(f"{folder} is not a pdedsl run folder (no {' or '.join(missing)})")


def check_resume(folder, steps: int | None = None) -> TrainConfig:
    """The configuration of the run to resume in ``folder``, after refusing what cannot be resumed: no run
    there, or ``steps`` below what it has taken."""
    folder = Path(folder)
    _refuse_a_folder_without_run_files(folder)
    _refuse_folders_in_place_of_results(folder)
    config = _read_config(folder)
    if steps is not None:
        if steps < 0:
            raise RunError(f"--steps must be at least 0 (got {steps})")
        _check_steps_reach_checkpoint(folder, config, steps)
    return config


def _refuse_folders_in_place_of_results(folder: Path) -> None:
    """A folder (or anything but a file) named like a result of the run, ``checkpoint.pt`` say, would read as
    "no checkpoint yet", and a resumed run would train afresh and fail at its first save: refused by name."""
    for name in RESULTS:
        path = folder / name
        if os.path.lexists(path) and not path.is_file():
            raise RunError(f"{path} is not a file (a folder, or a link to nothing) where the run keeps its {name}: "
                           "move it away")


def _check_steps_reach_checkpoint(folder: Path, config: TrainConfig, steps: int) -> None:
    """``--resume --steps N`` may extend Adam, never cut it below where the run stands (the steps already taken
    cannot be untaken, and the phase after Adam would be skipped or its state overwritten)."""
    path = folder / "checkpoint.pt"
    if not path.is_file():
        return
    try:
        state = checkpoint.load(path)
    except Exception:  # noqa: BLE001 - an unreadable checkpoint is reported when the run opens it
        return
    if not isinstance(state, dict) or not _is_step(state.get("step", 0)):
        return  # (as is one that is not a run's)
    adam_done = int(state.get("step", 0)) if state.get("phase") == "adam" else config.steps
    if steps < adam_done:
        raise StepsBelowCheckpoint(f"--steps {steps}: {folder} has already taken {adam_done} Adam steps; --steps "
                                   f"with --resume can only extend the run (give at least {adam_done}, or leave "
                                   "--steps out)")


class Trainer:
    def __init__(self, run: Run, progress: bool = True):
        self.run, self.config = run, run.config
        self.show_progress = progress
        self.parameters = list(run.model.parameters()) + run.objective.trainable_params()
        self.skipped = 0  # skipped L-BFGS steps, and Adam steps counted so far (see _settle)
        self.adam_skips = None  # Adam steps skipped in this session, counted on the device (no host sync)
        self.adam_skips_seen = 0
        self.adaptive = run.config.sampling == "rad"
        self.batches = None  # the points in use (saved with checkpoints when they depend on the model)
        self.drawn_at = None  # the step whose draw L-BFGS is using (saved with checkpoints)
        self.restored = None
        self.averaged = None  # the moving average of Adam's iterates (--average), until it replaces them
        self.last_iterate_errors = None  # the errors of Adam's last iterate, where the average replaced it
        self.weights_checked = False
        self.stop_request = StopRequest()
        self.outdated_result = False  # a resumed run's result.json, which describes the model checkpointed before

    def fit(self, resume: bool) -> dict:
        """Train from the start or the checkpoint; a SIGINT/SIGTERM saves a checkpoint and raises Stopped."""
        with stop_requests(enabled=not CONTEXT.active) as self.stop_request:
            return self._fit(resume)

    def _fit(self, resume: bool) -> dict:
        run, config = self.run, self.config
        run.model.train()
        # fused Adam skips a step on the device when told found_inf (as under a GradScaler): no host sync
        adam = torch.optim.Adam(self.parameters, lr=torch.tensor(config.learning_rate), fused=True)
        # torch's L-BFGS does not move with max_iter=1, so it runs in chunks of
        # LBFGS_CHUNK iterations; each iteration counts as a step.
        lbfgs = torch.optim.LBFGS(self.parameters, lr=1.0, max_iter=LBFGS_CHUNK, history_size=50,
                                  tolerance_grad=1e-12, tolerance_change=0.0, line_search_fn="strong_wolfe")
        refiner = self._levenberg_marquardt() if config.optimizer == "lm" else lbfgs
        step, wall_before = 0, 0.0
        state = run.load_checkpoint() if resume else None
        self.outdated_result = resume
        if resume and CONTEXT.main:  # records after the checkpoint (all of them, without one) are logged again
            _forget_metrics_after(run.folder / "metrics.jsonl", int(state["step"]) if state is not None else 0)
        if state is not None:
            step, wall_before = self._restore(state, adam, refiner)
        self._start_average(state, step)
        self.began = time.perf_counter() - wall_before
        self.base_rate = config.learning_rate  # halved once per skipped step: base_rate * 0.5 ** skips
        self.adam_skips = torch.zeros((), device=run.device)
        self.bar = Progress(config.total_steps, start=step, enabled=self.show_progress)
        if state is None and config.init:  # a kill before the first regular checkpoint resumes from --init's weights
            self._checkpoint(0, adam, "adam", 0.0)
        step = self._adam_phase(adam, step)
        step = self._lm_phase(refiner, step) if config.optimizer == "lm" else self._lbfgs_phase(lbfgs, step)
        self.bar.close()
        optimizer, phase = (refiner, config.optimizer) if step > config.steps else (adam, "adam")
        self._checkpoint(step, optimizer, phase, time.perf_counter() - self.began)
        return self._finish(step)

    def _restore(self, state: dict, adam, refiner) -> tuple[int, float]:
        """Put the optimisers, random state and points back as the checkpoint ``state`` holds them; ``(step,
        wall time)`` it was taken at. An entry missing or of the wrong kind (a damaged or foreign file that
        loads) is a RunError naming the file, which is left as it is."""
        run, config = self.run, self.config
        try:
            step, wall_before = int(state["step"]), float(state["wall"])
            (adam if state["phase"] == "adam" else refiner).load_state_dict(state["optimizer"])
            for group in adam.param_groups:  # (checkpoints written before the fused optimiser)
                group.update(fused=True, foreach=None)
            torch.set_rng_state(state["torch_rng"].cpu())  # the checkpoint was mapped onto the run's device
            if state.get("cuda_rng") is not None and run.device.type == "cuda":
                torch.cuda.set_rng_state(state["cuda_rng"].cpu(), run.device)
            if state.get("learning_rate") is not None:  # lowered after non-finite losses: stays lowered
                config.learning_rate = float(state["learning_rate"])
            if state.get("batches") is not None:
                self.restored = run.objective.batches_from_state(state["batches"])
            self.drawn_at = state.get("drawn_at")
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
            what = f"no '{error.args[0]}'" if isinstance(error, KeyError) else _detail(error)
            raise RunError(f"{run.folder / 'checkpoint.pt'} is not a pdedsl checkpoint a run can resume from "
                           f"({what}); delete it to start the run afresh") from None
        return step, wall_before

    def _adam_phase(self, adam, step: int) -> int:
        config = self.config
        if step < config.steps:
            resumed_mid_draw = self.restored is not None and step % config.resample_every != 0
            self.batches = self.restored if resumed_mid_draw else self._sample(step)
            if step == 0 and not self.run.operator:
                self._refuse_undefined_terms(self.batches)
        while step < config.steps:
            if step % config.resample_every == 0:
                self.batches = self._sample(step)
            terms = self._adam_step(adam, self.batches, step)
            step += 1
            self._update_average(step)
            self._after_step(step, "adam", adam, terms)
        self._use_average()
        return step

    def _refuse_undefined_terms(self, batches: dict) -> None:
        """Before the first step: a residual that is NaN or infinite on the first points would have every step
        skipped; say which, where in the spec, and at which point."""
        problem = self.run.problem
        for term, largest in self.run.objective.overflowing_observations():
            statement = self.run.objective.observation_statements[term]
            precision = str(self.run.dtype).replace("torch.", "")
            raise RunError(problem.locate(
                statement.span, f"the readings of '{statement.name}' reach {largest:.3g}: the sum of their squares "
                f"is beyond {precision} (its largest number is {torch.finfo(self.run.dtype).max:.3g}), so the "
                f"data term '{term}' would be infinite and every step skipped; "
                + ("rescale the data (other units)" if self.run.dtype == torch.float64
                   else "train with --precision float64, or rescale the data (other units)")))
        undefined = self.run.objective.undefined_terms(batches)
        if not undefined:
            return
        statements = {c.name: c for c in problem.equations + problem.conditions}
        name, count, total, at = undefined[0]
        statement = statements.get(re.split(r"\[|_flux#", name)[0])
        kind = statement.kind if statement is not None else "term"
        point = (" (the first at " + ", ".join(f"{a} = {v:.4g}" for a, v in at.items()) + ")") if at else ""
        others = f"; also {', '.join(repr(n) for n, *_ in undefined[1:])}" if len(undefined) > 1 else ""
        raise RunError(problem.locate(statement.span if statement is not None else None,
                                      f"{kind} '{name}' is NaN or infinite at {count} of its {total} points before "
                                      f"any training{point}: something in it is undefined there (a log or square "
                                      "root of a negative number, a division by zero, ...), or becomes so at the "
                                      f"network's starting values; every step would be skipped{others}"))

    # ---- the moving average of Adam's iterates (--average) ----
    def _start_average(self, state, step: int) -> None:
        """Begin the average (at the model's weights), or take it up again from the checkpoint.

        A checkpoint holds the average for as long as Adam runs; once Adam has
        ended the model is the average and checkpoints no longer carry one.
        """
        if not self.config.average:
            return
        if state is not None and state.get("averaged") is not None:
            self.averaged = [t.to(p.device, p.dtype) for t, p in zip(state["averaged"], self.parameters)]
        elif step < self.config.steps:
            self.averaged = [p.detach().clone() for p in self.parameters]

    @torch.no_grad()
    def _update_average(self, step: int) -> None:
        """Move the average towards the new iterate; early on (step < ~10 / (1 - decay)) with a shorter memory,
        ``(1 + step) / (10 + step)``, so the random start does not linger in it."""
        if self.averaged is None:
            return
        decay = min(self.config.average, (1 + step) / (10 + step))
        for average, parameter in zip(self.averaged, self.parameters):
            average.lerp_(parameter.detach(), 1 - decay)

    def _use_average(self) -> None:
        """Adam has ended: the model becomes the average (L-BFGS, if any, starts from there). The last
        iterate's errors are measured first, so result.json shows what the average gained."""
        if self.averaged is None:
            return
        if CONTEXT.main or not self.run.operator:
            self.last_iterate_errors = self.run.evaluate()
        with torch.no_grad():
            for average, parameter in zip(self.averaged, self.parameters):
                parameter.copy_(average)
        self.averaged = None

    def _lbfgs_phase(self, lbfgs, step: int) -> int:
        """L-BFGS on the last Adam batch, in chunks; stops early once the loss no longer changes."""
        config, run = self.config, self.run
        if step >= config.total_steps:
            return step
        # a few hundred test balls held fixed are too few constraints for L-BFGS (it fits them and not the
        # PDE between them), so weak-form particles are redrawn like adaptive points; both restart the history
        # When L-BFGS stalls on one set, the next set is drawn at once instead of ending the phase.
        redraws = self.adaptive or run.objective.weak is not None
        if step <= config.steps or self.drawn_at is None:
            self.drawn_at = config.steps
        resumed = self.restored is not None and step > config.steps
        self.batches = batches = self.restored if resumed else self._lbfgs_sample(self.drawn_at)
        stalled, previous = 0, None
        while step < config.total_steps:
            if redraws and step - self.drawn_at >= LBFGS_REDRAW:
                self._redraw(lbfgs, step)
                batches, stalled, previous = self.batches, 0, None
            for group in lbfgs.param_groups:
                group["max_iter"] = min(LBFGS_CHUNK, config.total_steps - step)
            terms, iterations = self._lbfgs_step(lbfgs, batches)
            loss = sum(terms.values())
            unchanged = previous is not None and abs(previous - loss) <= 1e-12 * max(abs(previous), 1e-30)
            stalled, previous = (stalled + 1 if unchanged else 0), loss
            if iterations == 0 or stalled >= 2:  # converged to working precision on this set
                if not redraws or step == self.drawn_at:
                    break  # nothing more to gain (or a fresh set did not move either)
                self._redraw(lbfgs, step)
                batches, stalled, previous = self.batches, 0, None
                continue
            for _ in range(iterations):
                step += 1
                self._after_step(step, "lbfgs", lbfgs, terms, may_checkpoint=False)
            due = step // config.checkpoint_every > (step - iterations) // config.checkpoint_every
            if due:  # checkpoints only fall between L-BFGS chunks, where the saved state matches the step
                self._checkpoint(step, lbfgs, "lbfgs", time.perf_counter() - self.began)
            self._stop_if_asked(step, lbfgs, "lbfgs", saved=due)
        return step

    def _levenberg_marquardt(self) -> LevenbergMarquardt:
        """The optimiser for ``--optimizer lm``, on the bare network (inside any hard-constraint wrapper)."""
        run = self.run
        network = run.model.model if isinstance(run.model, HardDirichlet) else run.model
        engines = set(run.objective.engines.values()) | (set(run.objective.weak.engines.values())
                                                          if run.objective.weak is not None else set())
        if not getattr(network, "supports_jets", False) or engines - {"forward"}:
            raise RunError("--optimizer lm needs the forward derivative engine (the PINN backend; not "
                           "--derivatives autograd)")
        try:
            return LevenbergMarquardt(network, run.objective, run.objective.trainable_params())
        except ValueError as error:  # too many parameters for its dense solve
            raise RunError(str(error)) from None

    def _lm_phase(self, lm: LevenbergMarquardt, step: int) -> int:
        """Levenberg-Marquardt steps, each on a fresh draw of points (draw number = step, past Adam's)."""
        config = self.config
        if config.threads is None and not CONTEXT.active and step < config.total_steps:
            torch.set_num_threads(len(os.sched_getaffinity(0)))  # its float64 solves gain from every core
        weak = self.run.objective.weak
        if weak is not None:
            weak.refine()
        while step < config.total_steps:
            if weak is not None and step >= config.total_steps - weak.polish_steps:
                weak.polish(lm.unknowns)  # the last steps: least-squares fits of their draws (weak.py)
            self.batches = self.run.objective.sample(step, adaptive=self.adaptive, step=step)
            terms, _moved = lm.step(CONTEXT.shard(self.batches))
            if not all(math.isfinite(v) for v in terms.values()):
                self.skipped += 1
            step += 1
            self._after_step(step, "lm", lm, terms)
        return step

    def _redraw(self, lbfgs, step: int) -> None:
        """Fresh points (and particles) for L-BFGS at ``step``; its curvature history no longer applies."""
        self.drawn_at = step
        self.batches = self._lbfgs_sample(step)
        lbfgs.state.clear()

    def _lbfgs_sample(self, at: int) -> dict:
        """The L-BFGS set drawn at step ``at``: the usual draw at the phase's start, else draw number ``at``
        (past every Adam draw, so no two sets coincide)."""
        if at == self.config.steps:
            return self._sample(at)
        return self.run.objective.sample(at, adaptive=self.adaptive, step=at)

    def _draw(self, step: int) -> int:
        return step // self.config.resample_every

    def _sample(self, step: int) -> dict:
        draw = self._draw(step)  # the schedule step is a function of the draw, so a resumed run draws the same
        return self.run.objective.sample(draw, adaptive=self.adaptive, step=draw * self.config.resample_every)

    def _checkpoint(self, step: int, optimizer, phase: str, wall: float) -> None:
        self._settle()
        if not CONTEXT.main:
            return
        batches = self.run.objective.batches_to_state(self.batches) if self.adaptive and self.batches else None
        state = self.run.state(step, optimizer, phase, wall, batches)
        state["drawn_at"] = self.drawn_at
        state["averaged"] = None if self.averaged is None else [t.clone() for t in self.averaged]
        checkpoint.save(state, self.run.folder / "checkpoint.pt")
        if self.outdated_result:  # its model is gone now: a run stopped from here on is shown as unfinished
            (self.run.folder / "result.json").unlink(missing_ok=True)
            self.outdated_result = False

    def _learning_rate(self, step: int) -> float:
        """The scheduled rate at ``step``, before halvings for steps skipped in this session."""
        fraction = step / max(self.config.steps, 1)
        return self.base_rate * self.config.decay ** fraction

    def _settle(self) -> None:
        """Read the device's count of skipped Adam steps (at logs and checkpoints only) and report new ones."""
        count = int(self.adam_skips)
        if count > self.adam_skips_seen:
            self.skipped += count - self.adam_skips_seen
            self.adam_skips_seen = count
            self.config.learning_rate = self.base_rate * 0.5 ** count
            print(f"pdedsl: non-finite loss in {count} step(s) so far; those steps were skipped and the learning "
                  f"rate halved for each, to {self.config.learning_rate:.2e}", file=sys.stderr)

    def _adam_step(self, adam, batches, step: int) -> dict:
        """One Adam step, decided on the device: a non-finite loss skips it and halves the rate from then on.

        Returns the loss terms as device tensors; nothing here waits for the device.
        """
        halving = torch.pow(0.5, self.adam_skips)
        for group in adam.param_groups:
            group["lr"] = halving * self._learning_rate(step)
        adam.zero_grad(set_to_none=True)
        terms = self.run.objective.losses(CONTEXT.shard(batches))
        loss = sum(terms.values())
        loss.backward()
        CONTEXT.average_gradients(self.parameters)
        found = (~torch.isfinite(CONTEXT.average(loss))).float()  # the same decision on every rank
        adam.found_inf = found.to(self.adam_skips.device)
        adam.step()
        self.adam_skips += adam.found_inf
        return CONTEXT.average_term_tensors({k: v.detach() for k, v in terms.items()})

    def _lbfgs_step(self, lbfgs, batches) -> dict:
        latest = {}
        local = CONTEXT.shard(batches)

        def closure():
            lbfgs.zero_grad(set_to_none=True)
            terms = self.run.objective.losses(local)
            loss = sum(terms.values())
            latest.update(CONTEXT.average_terms({k: v.detach() for k, v in terms.items()}))
            total = CONTEXT.average(loss)  # the line search must see one number on every rank
            if torch.isfinite(total):
                loss.backward()
                CONTEXT.average_gradients(self.parameters)
            return total

        snapshot = [p.detach().clone() for p in self.parameters]
        before = lbfgs.state[self.parameters[0]].get("n_iter", 0)
        lbfgs.step(closure)
        iterations = lbfgs.state[self.parameters[0]].get("n_iter", 0) - before
        if not all(math.isfinite(v) for v in latest.values()) or not all(torch.isfinite(p).all() for p in self.parameters):
            with torch.no_grad():  # a non-finite step never reaches the model
                for parameter, saved in zip(self.parameters, snapshot):
                    parameter.copy_(saved)
            self.skipped += 1
            lbfgs.state.clear()
        return latest, iterations

    def _after_step(self, step: int, phase: str, optimizer, terms: dict, may_checkpoint: bool = True) -> None:
        config, run = self.config, self.run
        if not self.weights_checked:
            self._check_weight_names(terms)
        wall = time.perf_counter() - self.began
        self.bar.update(step, phase, terms)
        evaluating = config.eval_every > 0 and step % config.eval_every == 0 and step < config.total_steps
        logging = step % config.log_interval == 0 or step == config.total_steps or evaluating
        if logging and phase == "adam":
            self._settle()
        held_out = self._held_out_errors() if evaluating else {}
        if CONTEXT.main and logging:
            terms = {k: float(v) for k, v in terms.items()}  # (Adam's terms are device tensors until here)
            record = {"step": step, "phase": phase, "loss": sum(terms.values()), "terms": terms,
                      "wall_s": round(wall, 3)}
            if phase == "adam":
                record["lr"] = self._learning_rate(step) * 0.5 ** self.adam_skips_seen
            if held_out:
                record["rel_l2"] = held_out
                self.bar.note(f"step {step}: relative L2 error " + ", ".join(
                    f"{name} {value:.3e}" if value is not None else f"{name} none (its truth is zero)"
                    for name, value in held_out.items()))
            with open(run.folder / "metrics.jsonl", "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
        saving = step % config.checkpoint_every == 0 or step == config.total_steps
        if may_checkpoint and saving:
            self._checkpoint(step, optimizer, phase, wall)
        if may_checkpoint:
            self._stop_if_asked(step, optimizer, phase, saved=saving)

    def _stop_if_asked(self, step: int, optimizer, phase: str, saved: bool) -> None:
        """After a step, where the state is consistent: on a SIGINT/SIGTERM save a checkpoint and stop."""
        if not self.stop_request.requested:
            return
        if not saved:
            self._checkpoint(step, optimizer, phase, time.perf_counter() - self.began)
        self.bar.close()
        raise Stopped(self.run.folder, step, self.config.total_steps, self.stop_request.signum)

    def _held_out_errors(self) -> dict[str, float]:
        """The errors the run ends by reporting, measured on the current iterate (``--eval-every``).

        The model is read in eval mode (DGNO codes each member by q(z | a)'s mean, as at the end) and the random
        streams are left as they were, so a run with evaluations trains exactly as one without.
        """
        run = self.run
        if not (CONTEXT.main or not run.operator):  # the ranks that evaluate at the end (_finish)
            return {}
        devices = [run.device] if run.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            run.model.eval()
            try:
                return run.evaluate()
            finally:
                run.model.train()

    def _check_weight_names(self, terms: dict) -> None:
        """Warn once about --weight names that match no loss term (a typo would otherwise pass unnoticed)."""
        self.weights_checked = True
        unknown = sorted(set(self.config.weights) - self.config.weights.names_matched(terms))
        if unknown and CONTEXT.main:
            built_in = sorted(set(unknown) & _enforced(self.run.model))
            why = (f"; {', '.join(built_in)} {'is' if len(built_in) == 1 else 'are'} built into the model exactly, "
                   "so no weight can change them (--soft-dirichlet keeps such conditions as loss terms)"
                   if built_in else "")
            print(f"pdedsl: warning: --weight {', '.join(unknown)}: no loss term of that name (the terms are "
                  f"{', '.join(sorted(terms))}){why}", file=sys.stderr)

    def _finish(self, step: int) -> dict:
        run = self.run
        run.model.eval()
        errors, rms = run.accuracy() if CONTEXT.main or not run.operator else ({}, {})
        result = {
            "problem": run.problem.name,
            "backend": self.config.backend,
            "rel_l2": errors,
            "rms_error": rms,
            "steps": step,
            "wall_s": round(time.perf_counter() - self.began, 2),
            # (not a family's; nor an operator's, whose training reads no observations to infer them from)
            "params": {name: float(v.detach()) for name, v in run.objective.params.items()
                       if name in run.problem.inferred and isinstance(v, torch.nn.Parameter) and not run.operator},
            "parameters": run.model.parameter_count(),
            "skipped_steps": self.skipped,
        }
        if self.last_iterate_errors is not None:
            result["rel_l2_last_iterate"] = self.last_iterate_errors
        if run.operator:
            result.update(mode=run.objective.mode, samples=len(run.pool),
                          test_samples=len(run.test) if run.test is not None else 0)
            if run.test is None:
                result["note"] = run.no_test_reason
        if CONTEXT.active:
            result["processes"] = CONTEXT.world
            result["rank_difference"] = CONTEXT.check_identical(self.parameters)  # 0: every rank holds one model
            if result["rank_difference"] > 0:
                print(f"pdedsl: warning: ranks' parameters differ by {result['rank_difference']:.2e}",
                      file=sys.stderr)
        if CONTEXT.main:
            write_text(run.folder / "result.json", json_text(result, indent=2))
        return result
