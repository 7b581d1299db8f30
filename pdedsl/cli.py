"""The ``pdedsl`` command line: a thin layer over :mod:`pdedsl.api`.

Exit codes: 0 success, 1 the spec has errors (or cannot be run as asked:
backend, data, run folder), 2 usage errors (bad options, missing files),
3 an internal error (a bug in pdedsl), 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import shlex
import shutil
import stat
import sys
import warnings

from pathlib import Path

from . import __version__, api, compiler
from .errors import InternalError, PdeError, PdeWarning, SpecError
from .files import json_text, make_folder_of, replacing
from .training.config import MAX_THREADS, MAX_WHOLE, FormError, is_ascii_number
from .training.stopping import Stopped

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse's parser, but an option it does not know is reported before an argument that is missing:
    ``pdedsl check --bogus`` said only that SPEC was required, sending the user to fix something else first."""

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message):
        if message.startswith("the following arguments are required"):
            given = getattr(self, "_given", [])
            given = given[:given.index("--")] if "--" in given else given  # (after '--' every token is a value)
            unknown = [token for token in given if self._unknown_option(token)]
            if unknown:
                message = f"unrecognized arguments: {' '.join(unknown)}"
        super().error(message)

    def _unknown_option(self, token: str) -> bool:
        """Whether ``token`` reads as an option no one of this parser's names, or abbreviates (as argparse allows);
        a negative number is a value."""
        if not token.startswith("-") or token == "-" or self._negative_number_matcher.match(token):
            return False
        name = token.split("=", 1)[0]
        names = self._option_string_actions
        if not name.startswith("--"):
            return name[:2] not in names  # '-q', '-ofile'
        return not any(known.startswith(name) for known in names)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pdedsl",
        description="Compile .pde specifications of PDE problems.",
    )
    parser.add_argument("--version", action="version", version=f"pdedsl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    parser.commands = commands

    check = commands.add_parser("check", help="check specs and report every error")
    check.add_argument("specs", nargs="+", metavar="SPEC", help=".pde files")
    check.add_argument("-q", "--quiet", action="store_true", help="print only errors and warnings")

    show = commands.add_parser("show", help="show a spec's equations and conditions as mathematics")
    show.add_argument("spec", metavar="SPEC")
    show.add_argument("--latex", action="store_true", help="print LaTeX instead of Unicode")
    show.add_argument("--form", choices=("strong", "weak", "mixed"), default="strong",
                      help="the equations as written (strong), tested and integrated by parts (weak), or with flux "
                           "outputs in place of the flux (mixed)")

    emit = commands.add_parser("emit", help="print an intermediate stage of the compiler")
    emit.add_argument("--stage", choices=STAGES, default="ir", help="which stage (default: ir)")
    emit.add_argument("--form", choices=("strong", "weak", "mixed"), default="strong",
                      help="with --stage lowered: the strong residuals, the derived weak forms or the mixed forms")
    emit.add_argument("spec", metavar="SPEC")

    compile_ = commands.add_parser("compile", help="generate the PyTorch module for a spec")
    compile_.add_argument("spec", metavar="SPEC")
    compile_.add_argument("-o", "--output", type=_name, metavar="FILE", help="write here (default: standard output)")

    train = commands.add_parser("train", help="train a solver for a spec (or resume a run)")
    train.add_argument("spec", metavar="SPEC", nargs="?", help=".pde file (omit with --resume)")
    train.add_argument("--backend", default="pinn", help="solver backend (default: pinn)")
    train.add_argument("--steps", type=_whole, help="Adam steps (default: 1000)")
    train.add_argument("--lbfgs-steps", type=_whole,
                       help="iterations of the optimiser after Adam (default: 2000 for lbfgs, 200 for lm, 500 for lm "
                            "in weak form)")
    train.add_argument("--optimizer", choices=("lbfgs", "lm"),
                       help="the optimiser after Adam: lm (the PINN's default: Levenberg-Marquardt on a width-20 "
                            "network with adaptive points; not with --form mixed) or lbfgs")
    train.add_argument("--points", type=_whole, help="collocation points per equation target (default: 1000)")
    train.add_argument("--width", type=_whole, help="hidden layer width (default: the PINN 20 under the default "
                       "Levenberg-Marquardt optimizer, else 64; deeponet/multionet 100; fno 32)")
    train.add_argument("--depth", type=_whole, help="hidden layers (default: 4)")
    train.add_argument("--activation", help="hidden-layer activation: tanh, sin, gelu, silu, softplus; for "
                       "deeponet, multionet and dgno also tanh_sin, silu_sin, silu_id (default: tanh; gelu for "
                       "deeponet, multionet and fno)")
    train.add_argument("--weight", action="append", default=[], metavar="NAME=W",
                       help="loss weight of one residual or term (repeatable), e.g. --weight boundary_1=100")
    train.add_argument("--soft-dirichlet", action="store_true",
                       help="keep every Dirichlet condition and initial value as a loss term (by default u = g on "
                            "the whole boundary of a box or interval, and u = h at the start time, are built into "
                            "the model exactly)")
    train.add_argument("--derivatives", choices=("auto", "forward", "autograd"), default="auto",
                       help="derivative engine: forward-mode jets (auto picks it where the network allows) "
                            "or nested reverse-mode autograd (default: auto)")
    train.add_argument("--form", default="strong", metavar="FORM",
                       help="equations as residuals at points (strong), tested against compactly supported "
                            "functions on particles and integrated by parts (weak; see show --form weak), or weak "
                            "with a learned flux for jumping coefficients (mixed). Options ride along: "
                            "'weak(particles: 300, radius: 0.05, radius_min: 0.01, schedule: linear, top_k: 20, polish: 50)'")
    train.add_argument("--particles", type=_whole,
                       help="with --form weak/mixed: test balls per equation target (default: 200)")
    train.add_argument("--instance", type=_whole, metavar="SEED",
                       help="for a spec with random inputs or params: solve the one problem drawn from their priors "
                            "with this seed (saved as instance.npz in the run folder)")
    train.add_argument("--sampling", choices=("uniform", "rad"),
                       help="equation points: uniform, or rad (drawn where the residual is large, redrawn "
                            "every 100 Adam steps and every Levenberg-Marquardt step; for shocks and layers; "
                            "the default with --optimizer lm)")
    train.add_argument("--compile", nargs="?", const="on", default="auto", choices=("auto", "on", "off"),
                       help="fuse the residual computation with torch.compile (a one-off compile of 5-20 s on a "
                            "CPU); auto (the default) compiles runs of at least 1e7 point-steps, where it pays")
    train.add_argument("--lr", type=_real, help="Adam learning rate (default: 1e-3)")
    train.add_argument("--decay", type=_real,
                       help="the learning rate falls geometrically to lr * decay over the Adam steps (default: 0.1)")
    train.add_argument("--samples", type=_whole,
                       help="operator backends: members of the family drawn from the priors (default: 1000; "
                            "with --data, the first N members of the file)")
    train.add_argument("--data", type=_name, metavar="FILE",
                       help="operator backends: labelled members from 'pdedsl data'")
    train.add_argument("--mode", choices=("auto", "physics", "supervised", "hybrid"), default="auto",
                       help="operator backends: learn from the physics, the labels, or both "
                            "(default: supervised with --data, else physics)")
    train.add_argument("--batch", type=_whole, help="operator backends: members per step (default: 50)")
    train.add_argument("--coding-batch", type=_whole, metavar="N",
                       help="dgno backend: members whose inputs are coded and reconstructed per step, the --batch "
                            "members (which the physics reads) and more (default: the batch)")
    train.add_argument("--grid", type=_whole,
                       help="operator backends: sensor nodes per axis (default: the data's, else 129/29/17 in 1/2/3-D)")
    train.add_argument("--test", type=_whole, metavar="N",
                       help="operator backends: held-out members solved by the reference solver (default: 100)")
    train.add_argument("--test-data", type=_name, metavar="FILE", help="operator backends: held-out labelled members")
    train.add_argument("--modes", type=_whole, help="fno backend: Fourier modes kept per axis (default: 12)")
    train.add_argument("--latent", type=_whole, help="dgno backend: latent variables (default: 128)")
    train.add_argument("--encoder", choices=("mlp", "cnn", "pca"),
                       help="dgno backend: q(z | a)'s mean from a learned MLP, a learned CNN over the sensor grid, "
                            "or the training pool's whitened principal components (default: mlp)")
    train.add_argument("--kl-warmup", type=_real, metavar="F",
                       help="dgno backend: the KL term's weight rises from 0 over this fraction of the steps "
                            "(default: 0.5)")
    train.add_argument("--average", type=_real, metavar="DECAY",
                       help="keep an exponential moving average of Adam's iterates with this decay (e.g. 0.999: "
                            "about the last 1000 steps) and end Adam on it; it damps the steps' noise (default: off)")
    train.add_argument("--eval-every", type=_whole, metavar="N",
                       help="measure the held-out error (exact solution, reference or test members) every N steps "
                            "during training, into metrics.jsonl and the plot; 0: only at the end (default: 500)")
    train.add_argument("--seed", type=_seed, default=0)
    train.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    train.add_argument("--precision", choices=("float32", "float64", "bf16"),
                       help="bf16: float32 parameters and residuals, bfloat16 matmuls in an operator's label "
                            "term (default: float64 for --form weak under --optimizer lm in 1-D and 2-D, "
                            "where float32 rounding limits small test balls; float32 otherwise)")
    train.add_argument("--nproc", type=_whole, metavar="N",
                       help="train on N processes (launches torchrun --standalone --nproc-per-node N; each takes "
                            "1/N of the points, gradients are averaged; gloo on the CPU, NCCL on GPUs)")
    train.add_argument("--threads", type=_threads,
                       help="CPU threads for torch (0: torch's default; default: 1, and every core for the "
                            "Levenberg-Marquardt solves of a one-process run)")
    train.add_argument("--out", type=_name, metavar="DIR", help="run folder (default: runs/PROBLEM)")
    train.add_argument("--resume", type=_name, metavar="DIR", help="continue the run in DIR from its last checkpoint")
    train.add_argument("--init", type=_name, metavar="DIR",
                       help="start from the trained weights of the run in DIR (same spec family, backend and sizes), "
                            "with a fresh optimiser and schedule: fine-tuning, e.g. under other --weight or --form "
                            "options")
    train.add_argument("--json", action="store_true", help="end standard output with one JSON line of results")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    infer = commands.add_parser("infer", help="solve the spec's inverse problem (observe/infer statements)")
    infer.add_argument("spec", metavar="SPEC")
    infer.add_argument("--model", type=_name, metavar="RUN_DIR",
                       help="a dgno run trained on the spec's family: posterior over its latent space "
                            "(MAP, Laplace, Langevin); "
                            "without it, scalar unknowns are fitted with a PINN (with Laplace standard deviations)")
    infer.add_argument("--out", type=_name, metavar="DIR", help="output folder (default: runs/PROBLEM_infer)")
    infer.add_argument("--restarts", type=_whole, default=8, help="with --model: starts of the MAP search (default: 8)")
    infer.add_argument("--map-steps", type=_whole, default=800,
                       help="with --model: Adam steps of the MAP search (default: 800)")
    infer.add_argument("--draws", type=_whole, default=256, help="with --model: posterior draws (default: 256)")
    infer.add_argument("--sampler", choices=("mala", "laplace"), default="mala",
                       help="with --model: draws by Langevin chains preconditioned by the Laplace approximation "
                            "(mala, exact) or of the Laplace Gaussian itself (laplace, faster) (default: mala)")
    infer.add_argument("--chains", type=_whole, default=8, help="with --sampler mala: chains (default: 8)")
    infer.add_argument("--mala-steps", type=_whole, default=600,
                       help="with --sampler mala: steps per chain, the first half discarded (default: 600)")
    infer.add_argument("--no-model-error", action="store_true",
                       help="with --model: trust the model exactly (by default its own error, measured against "
                            "the reference solver on 100 fresh members, widens the noise and the bands)")
    infer.add_argument("--particles", type=_whole, metavar="N",
                       help="with --model (weak or mixed form): particles of the posterior's physics, one fixed draw; "
                            "fewer make each step cheaper and the physics rougher (default: the model's training "
                            "count, at least 400)")
    infer.add_argument("--prior", choices=("aggregate", "standard"), default="aggregate",
                       help="with --model: the latent prior: a Gaussian fitted to where the encoder puts the "
                            "training members (aggregate), or the nominal N(0, I) (standard) (default: aggregate)")
    infer.add_argument("--steps", type=_whole, help="without --model: Adam steps of the PINN (default: 1000)")
    infer.add_argument("--lbfgs-steps", type=_whole, help="steps of the phase after Adam: without --model the PINN's "
                       "(Levenberg-Marquardt; default: 200), with it the MAP search's L-BFGS (default: 200)")
    infer.add_argument("--threads", type=_threads,
                       help="CPU threads: without --model for the PINN fit, as train's --threads (0: torch's "
                            "default; default: 1, and every core for the Levenberg-Marquardt phase); with a dgno "
                            "model for the MAP search and the chains (default: torch's)")
    infer.add_argument("--instance", type=_whole, metavar="SEED",
                       help="without --model: solve with the spec's random inputs and params drawn with SEED (those "
                            "not inferred)")
    infer.add_argument("--seed", type=_seed, default=0)
    infer.add_argument("--json", action="store_true", help="end standard output with one JSON line of results")
    infer.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    predict = commands.add_parser("predict", help="evaluate a trained run at the points of an .npz file")
    predict.add_argument("run", metavar="DIR")
    predict.add_argument("--points", type=_name, required=True, metavar="FILE",
                         help=".npz of points (scattered or grid)")
    predict.add_argument("-o", "--output", type=_name, required=True, metavar="FILE", help="output .npz")
    predict.add_argument("--layout", choices=("auto", "scattered", "grid"), default="auto",
                         help="how to read 1-D coordinate arrays of one length: scattered points, or the axes of a "
                              "grid (auto: a grid when a field array in the file has the grid's shape, else "
                              "scattered)")

    plot = commands.add_parser("plot", help="plot a run: prediction, truth, error and losses")
    plot.add_argument("run", metavar="DIR")
    plot.add_argument("-o", "--output", type=_name, metavar="FILE",
                      help="a .png, .pdf or .svg file (the extension picks the format), or a folder to hold "
                           "plot.png (default: DIR/plot.png)")
    plot.add_argument("--at", action="append", metavar="NAME=VALUE", default=[],
                      help="hold a coordinate the panels do not show at VALUE (a PINN run; repeatable): the "
                           "time (default: the final time) or a 3-D problem's third axis (default: its middle)")
    plot.add_argument("--spec", metavar="SPEC",
                      help="with a data file (FILE.npz of 'pdedsl data') in place of DIR: the spec that made it; "
                           "its first samples are drawn (default output: FILE.png)")

    data = commands.add_parser("data", help="labelled samples (random inputs -> solution) by the reference solver")
    data.add_argument("spec", metavar="SPEC")
    data.add_argument("--n", type=_whole, default=1, help="number of samples (default: 1)")
    data.add_argument("--grid", type=_whole, default=29, help="grid nodes per axis, boundary included (default: 29)")
    data.add_argument("--seed", type=_seed, default=0)
    data.add_argument("-o", "--output", type=_name, required=True, metavar="FILE", help="output .npz")
    data.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


STAGES = ("ast", "ir", "lowered", "code")


def _subcommand(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of one command, to report its errors with its own usage line."""
    return parser.commands.choices[command]


#: train's options (argparse names) that set a TrainConfig count or rate, and the setting each sets.
_OPTION_SETTINGS = (("steps", "steps"), ("lbfgs_steps", "lbfgs_steps"), ("points", "interior_points"),
                    ("particles", "weak_particles"), ("instance", "instance"), ("lr", "learning_rate"),
                    ("decay", "decay"), ("samples", "samples"), ("batch", "batch_size"),
                    ("coding_batch", "coding_batch"), ("grid", "grid"), ("test", "test_samples"),
                    ("eval_every", "eval_every"))


def _with_option(message: str, args) -> str:
    """A TrainConfig check's ``message``, which names a setting as the Python API knows it ('interior_points
    must be at least 1'), led by the option and value it was given with here ('--points 0: ...')."""
    for option, attribute in _OPTION_SETTINGS:
        value = getattr(args, option, None)
        if value is not None and message.startswith(f"{attribute} "):
            shown = f"{value:g}" if isinstance(value, float) else value
            return f"--{option.replace('_', '-')} {shown}: {message}"
    return message


def _whole(text: str) -> int:
    """A whole-number option: argparse's ``int``, refusing what 64 bits cannot hold (``MAX_WHOLE``; beyond it
    torch fails naming no option, and --nproc hangs torchrun) and digits other than ASCII's; other limits are the
    run's to check, where the Python API meets them too."""
    _ascii_only(text)
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: '{text}'") from None
    if abs(value) > MAX_WHOLE:
        raise argparse.ArgumentTypeError(f"{text} is too large (at most {MAX_WHOLE})")
    return value


def _threads(text: str) -> int:
    """A --threads: a whole number of at most MAX_THREADS (below 0 is the run's to refuse, as from Python)."""
    value = _whole(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"at most {MAX_THREADS} threads (got {value}): more than any machine has "
                                         "cores, which only slow a run down")
    return value


def _real(text: str) -> float:
    """A number option: argparse's ``float``, written with ASCII digits (see :func:`_ascii_only`)."""
    _ascii_only(text)
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid float value: '{text}'") from None


def _ascii_only(text: str) -> None:
    """Refuse a number written with other digits than ASCII's 0-9: Python's ``int`` and ``float`` read every
    script's decimal digits ('--steps ١٠' trained 10 steps), which a reader of the command may not see as a
    number at all."""
    if not is_ascii_number(text):
        raise argparse.ArgumentTypeError(f"'{text}' is not written with the ASCII digits 0-9")


def _name(text: str) -> str:
    """A file or folder option: an empty name is refused, which ``Path('')`` would take for the working folder
    and the options' defaults (``args.out or ...``) for the option not given."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name names no file or folder")
    return text


def _seed(text: str) -> int:
    """A --seed: a whole number >= 0 (numpy's generators, which draw members and data, take no other)."""
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"a seed is a whole number >= 0 (got {value})")
    return value


def main(argv: list[str] | None = None) -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    try:
        parser = _parser()
        args, extra = parser.parse_known_args(argv)
        if extra:  # the command's own usage says what it takes, not the top-level one
            _subcommand(parser, args.command).error(f"unrecognized arguments: {' '.join(extra)}")
        args.argv = list(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # argparse has printed its usage message
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    try:
        with warnings.catch_warnings():  # put back as it was when the command returns
            warnings.showwarning = _show_warning
            return _COMMANDS[args.command](args)
    except SpecError as error:
        _say(error.render())
        return EXIT_SPEC
    except InternalError as error:
        print(f"pdedsl: {error}", file=sys.stderr)
        return EXIT_INTERNAL
    except PdeError as error:  # a valid spec that cannot be run this way (backend, data, run folder)
        _say(f"pdedsl: error: {error}")
        return EXIT_SPEC
    except _UsageError as error:
        _say(f"pdedsl: error: {error}")
        return EXIT_USAGE
    except Stopped as stop:
        if args.command == "data":
            print(f"pdedsl: stopped after {stop.step} of {stop.total} samples, kept in {stop.folder}; run the same "
                  "'pdedsl data' command again to continue", file=sys.stderr)
            return stop.exit_code
        how = ("rerun the same 'pdedsl infer' command" if args.command == "infer"
               else f"pdedsl train --resume {shlex.quote(str(stop.folder))}")
        print(f"pdedsl: stopped at step {stop.step} of {stop.total}, checkpoint saved; continue with: {how}",
              file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print("pdedsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence: never a traceback
        if os.environ.get("PDEDSL_DEBUG"):
            raise
        if _refused_by_the_file_system(error):
            where = f"{error.filename}: " if error.filename else ""
            print(f"pdedsl: error: {where}{error.strerror or error} (the file system refused; make room or "
                  "fix its permissions, or choose another place)", file=sys.stderr)
            return EXIT_SPEC
        if _peer_lost(error):
            print(f"pdedsl: error: process {os.environ.get('RANK', '?')} of the run lost the others (one stopped); "
                  "the run continues with 'pdedsl train --resume' from its last checkpoint", file=sys.stderr)
            return EXIT_SPEC
        if _out_of_memory(error):
            detail = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
            print(f"pdedsl: error: out of memory ({detail}); ask for less at once: fewer points (split the "
                  "file), draws, members or a smaller batch", file=sys.stderr)
            return EXIT_SPEC
        _report_bug(error)
        return EXIT_INTERNAL


#: What the file system answers when it refuses a read or write that pdedsl was right to ask for: the user's
#: or the machine's to fix (a read-only folder, a full disk), not a bug.
_FILE_SYSTEM_REFUSALS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EIO,
                         errno.ENAMETOOLONG}


def _refused_by_the_file_system(error: Exception) -> bool:
    return isinstance(error, OSError) and error.errno in _FILE_SYSTEM_REFUSALS


def _report_bug(error: Exception) -> None:
    bug = error if isinstance(error, InternalError) else InternalError(f"{type(error).__name__}: {error}")
    print(f"pdedsl: {bug}\n(set PDEDSL_DEBUG=1 to see the traceback)", file=sys.stderr)


def _peer_lost(error: Exception) -> bool:
    """Under torchrun: a collective failed because another process of the run stopped (killed, or its error)."""
    if "WORLD_SIZE" not in os.environ:
        return False
    from torch.distributed import DistError

    text = str(error)
    return isinstance(error, DistError) or "Connection closed by peer" in text or "Connection reset by peer" in text


#: What torch and numpy say of a size too large for any machine (a count near 2**63 given as an option): a request
#: for more memory than there is, whatever the error's type.
_SIZE_OVERFLOWS = ("overflow when unpacking long", "storage size calculation overflowed", "array is too big",
                   "maximum allowed size exceeded")


def _out_of_memory(error: Exception) -> bool:
    """numpy's MemoryError, torch's failed allocation (CPU: a RuntimeError; CUDA: OutOfMemoryError), or a size
    that overflows their arithmetic."""
    text = str(error).lower()
    return isinstance(error, MemoryError) or (
        isinstance(error, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)) or (
        isinstance(error, (RuntimeError, ValueError, TypeError, OverflowError))
        and any(overflow in text for overflow in _SIZE_OVERFLOWS))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """pdedsl's own warnings (a prior's sampler, say) as ``pdedsl: warning: ...``, not as Python prints them,
    with the file, line and source text that raised them; other libraries' as Python prints them."""
    if issubclass(category, PdeWarning):
        _say(f"pdedsl: warning: {message}")
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def _say(message: str) -> None:
    """Print a user error, once per multi-process run: every process of ``--nproc`` reads the same spec,
    options and files, so the others' copies of rank 0's message are left out."""
    if "WORLD_SIZE" in os.environ and os.environ.get("RANK", "0") != "0":
        return
    print(message, file=sys.stderr)


class _UsageError(Exception):
    pass


def _existing(path: str) -> Path:
    """The spec file ``path`` as a Path (so that the API reads it as a file whatever characters it holds)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _UsageError(f"{path}: no such file") from None
    except (OSError, ValueError) as error:  # a loop of links, a name too long, a NUL byte: said as such
        raise _UsageError(f"{path}: {getattr(error, 'strerror', None) or error}") from None
    if stat.S_ISDIR(mode):
        raise _UsageError(f"{path}: is a directory")
    if not stat.S_ISREG(mode):  # a pipe would block the read, a device give no spec
        raise _UsageError(f"{path}: is not a regular file")
    return Path(path)


def _check(args) -> int:
    status = EXIT_OK
    for path in args.specs:
        try:
            spec = _existing(path)
        except _UsageError as error:  # said, and the other specs are still checked
            print(f"pdedsl: error: {error}", file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        try:
            problem = api.load(spec)
            lowered = compiler.lower(problem)  # (cheap) what only writing the operators out shows is found here too
            warnings = _warnings_of(problem, lowered)
        except SpecError as error:
            print(error.render(), file=sys.stderr)
            status = max(status, EXIT_SPEC)
            continue
        except Exception as error:  # noqa: BLE001 - a bug on one spec: say so, and check the others
            if os.environ.get("PDEDSL_DEBUG"):
                raise
            print(f"{path}:", end=" ", file=sys.stderr)
            _report_bug(error)
            status = max(status, EXIT_INTERNAL)
            continue
        for warning in warnings:
            print(warning.render(), file=sys.stderr)
        if not args.quiet:
            print(f"{path}: ok ({_summary(problem, len(warnings))})")
    return status


def _warnings_of(problem, lowered=None, form: str | None = None, physics: bool = True) -> list:
    """The spec's warnings with those that need its operators written out: a part of a domain's boundary
    without a condition on a field its equations differentiate twice (passes/coverage.py), derivatives of a
    data input that its interpolation makes zero in ``form`` (passes/data_derivatives.py; not for a run that
    reads no residual, ``physics=False``: an operator learning from labels alone), regions that sampling finds
    empty (passes/regions.py). A failure of one check is not the spec's: that check's warnings are left out
    (PDEDSL_DEBUG=1 shows it), the others' kept."""
    from .passes.coverage import uncovered_boundaries
    from .passes.data_derivatives import zero_data_derivatives
    from .passes.regions import empty_regions

    lowered = lowered if lowered is not None else compiler.lower(problem)
    warnings = list(problem.warnings)
    derivatives = [lambda p, lo: zero_data_derivatives(p, lo, form)] if physics else []
    for check in [uncovered_boundaries, *derivatives, empty_regions]:
        try:
            warnings += check(problem, lowered)
        except Exception:  # noqa: BLE001 - a warning's own failure must not stop the command
            if os.environ.get("PDEDSL_DEBUG"):
                raise
    return warnings


def _summary(problem, warnings: int) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")

    parts = [f"problem {problem.name}", count(len(problem.fields), "field"), count(len(problem.equations), "equation"),
             count(len(problem.boundary_conditions) + len(problem.initial_conditions), "condition")]
    if warnings:
        parts.append(count(warnings, "warning"))
    return ", ".join(parts)


def _show(args) -> int:
    from .ir.listing import show_problem

    problem = api.load(_existing(args.spec))
    if args.form in ("weak", "mixed"):
        from .passes.listing import show_mixed, show_weak
        from .passes.weak import derive_weak_forms

        show = show_weak if args.form == "weak" else show_mixed
        sys.stdout.write(show(problem, derive_weak_forms(problem), latex=args.latex))
    else:
        sys.stdout.write(show_problem(problem, latex=args.latex))
    return EXIT_OK


def _emit(args) -> int:
    path = _existing(args.spec)
    if args.form != "strong" and args.stage != "lowered":
        raise _UsageError(f"--form {args.form} chooses the lowered residuals (--stage lowered); "
                          f"stage '{args.stage}' has no form")
    if args.stage == "ast":
        from .frontend.ast_printer import format_ast

        sys.stdout.write(format_ast(api.parse(path)))
    elif args.stage == "ir":
        from .ir.listing import format_problem

        sys.stdout.write(format_problem(api.load(path)))
    elif args.stage == "lowered" and args.form in ("weak", "mixed"):
        from .passes.listing import format_mixed, format_weak
        from .passes.weak import derive_weak_forms

        problem = api.load(path)
        listing = format_weak if args.form == "weak" else format_mixed
        sys.stdout.write(listing(problem, derive_weak_forms(problem)))
    elif args.stage == "lowered":
        from .passes.listing import format_lowered

        sys.stdout.write(format_lowered(compiler.lower(api.load(path))))
    else:
        sys.stdout.write(api.compile(path))
    return EXIT_OK


def _compile(args) -> int:
    source = api.compile(_existing(args.spec))
    if args.output is None:
        sys.stdout.write(source)
        return EXIT_OK
    output = Path(args.output)
    if output.suffix == ".pde" or (os.path.exists(output) and output.resolve() == Path(args.spec).resolve()):
        raise _UsageError(f"-o {output} would overwrite a spec with Python; write the module to a .py file")
    try:  # (a folder made as predict's and plot's -o are; one that cannot be, under a file say, is refused)
        make_folder_of(output)
        with replacing(output) as handle:  # never leaves a half-written module behind
            handle.write(source.encode("utf-8"))
    except OSError as error:
        raise _unwritable(output, error) from None
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK


#: Processes per CPU core that ``--nproc`` may start: past a few, each holds a copy of the model and the
#: points and they only wait on one another (100000 of them would swamp the machine before the first step).
PROCESSES_PER_CORE = 4


def _unwritable(output, error: OSError) -> Exception:
    """The error for an ``-o`` that could not be written: exit 1 where the file system refused the write
    (permissions, a read-only or full disk), as predict and plot answer it; a usage error (exit 2) for a name
    that cannot be a file (a file in the way of its folder, a name too long)."""
    message = f"cannot write {output}: {error.strerror or error}"
    if error.errno in _FILE_SYSTEM_REFUSALS - {errno.ENAMETOOLONG}:
        return PdeError(message)
    return _UsageError(message)


def _check_writable(output: Path) -> None:
    """Refuse an ``-o`` before the work that fills it (``data``'s samples can take minutes, lost if the write
    then fails): its folder is made and a scratch file is created there and removed."""
    import tempfile

    try:
        make_folder_of(output)
        with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp"):
            pass
    except OSError as error:
        raise _unwritable(output, error) from None


def _check_process_count(processes: int, device: str) -> None:
    """Refuse a ``--nproc`` no machine runs well, before torchrun starts any: fewer than 1, more than
    ``PROCESSES_PER_CORE`` per CPU core, or, with ``--device cuda``, more than the GPUs (each process takes the
    GPU of its local rank). A resumed run's device is its folder's, read later: the CPU bound holds for it."""
    if processes < 1:
        raise _UsageError("--nproc needs at least 1 process")
    cores = os.cpu_count() or 1
    if processes > PROCESSES_PER_CORE * cores:
        raise _UsageError(f"--nproc {processes}: at most {PROCESSES_PER_CORE * cores} processes ({PROCESSES_PER_CORE} "
                          f"per CPU core, {cores} {'core' if cores == 1 else 'cores'}); more only wait on one another")
    if device.startswith("cuda"):
        import torch

        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if 0 < gpus < processes:  # (none at all: the run says that this machine has no CUDA device)
            raise _UsageError(f"--nproc {processes}: --device cuda runs one process per GPU, and this machine has "
                              f"{gpus}")


def _launch(argv: list[str], processes: int, folder: Path) -> int:
    """Run this same ``train`` command under torchrun on ``processes`` processes; its exit status."""
    import subprocess

    rest, skip = [], False
    for item in argv:  # drop --nproc and its value
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            rest.append(item)
    command = [sys.executable, "-m", "pdedsl.training.torchrun", "--standalone", f"--nproc-per-node={processes}",
               "-m", "pdedsl", *rest]
    from .training.distributed import LAUNCHER_VARIABLE

    environment = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
                   LAUNCHER_VARIABLE: str(os.getpid())}
    linux = sys.platform.startswith("linux")
    process = subprocess.Popen(command, env=environment, preexec_fn=_terminate_with_parent if linux else None)
    import signal

    def terminated(number, frame):  # a kill (or a scheduler's SIGTERM) is an interrupt too, exit 143
        raise _Terminated
    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        return process.wait()
    except (KeyboardInterrupt, _Terminated) as stop:  # torchrun must stop its workers itself: ask it to
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        saved = (Path(folder) / "checkpoint.pt").is_file()
        print("pdedsl: interrupted; " + ("the run continues with 'pdedsl train --resume' from its last checkpoint"
                                         if saved else "no checkpoint was written yet: 'pdedsl train --resume' "
                                         "starts it over"), file=sys.stderr)
        return 143 if isinstance(stop, _Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Terminated(Exception):
    """SIGTERM reached the launcher of a multi-process run."""



def _terminate_with_parent() -> None:
    """In the launched torchrun, before it starts (Linux): ask for SIGTERM when this launcher dies, however it
    dies, so that killing ``pdedsl train --nproc N`` stops torchrun and, through it, the workers."""
    import ctypes
    import signal

    set_death_signal = 1  # PR_SET_PDEATHSIG
    ctypes.CDLL(None, use_errno=True).prctl(set_death_signal, signal.SIGTERM)


#: ``train`` options that --resume honours (--threads: the machine's, not the run's); every other one given with it
#: is ignored (and said to be)
RESUME_OPTIONS = {"command", "argv", "resume", "steps", "threads", "quiet", "json", "nproc"}


def _warn_ignored_on_resume(args) -> None:
    """A resumed run keeps the configuration it was started with: name the options given that it ignores."""
    defaults = vars(_parser().parse_args(["train", "--resume", args.resume]))
    given = _options_given(args.argv)  # (an option given at its default value, --form strong say, counts too)
    ignored = [f"--{name.replace('_', '-')}" for name, value in vars(args).items()
               if name not in RESUME_OPTIONS and name in defaults and (value != defaults[name] or name in given)]
    ignored = [name for name in ignored if name != "--spec"]  # (the positional SPEC, named by its value)
    if args.spec is not None:
        ignored.insert(0, args.spec)
    if ignored:
        print(f"pdedsl: warning: --resume continues {args.resume} with the settings it was started with (only "
              f"--steps may change); ignoring {', '.join(ignored)}", file=sys.stderr)


def _options_given(argv: list[str]) -> set[str]:
    """The destinations of the ``train`` options written in ``argv``."""
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    flags = {flag: action.dest for action in commands.choices["train"]._actions for flag in action.option_strings}
    return {flags[item.split("=", 1)[0]] for item in argv if item.split("=", 1)[0] in flags}


def _train(args) -> int:
    """Start or resume a run; with --nproc, everything that can be checked is checked before torchrun starts."""
    from .training import resume, train
    from .training.run import StepsBelowCheckpoint, check_resume

    worker = "WORLD_SIZE" in os.environ  # launched by torchrun (the launcher has said everything to say)
    launching = args.nproc is not None and not worker
    if launching:
        _check_process_count(args.nproc, args.device if not args.resume else "cpu")
    progress = not args.quiet
    if args.resume:
        if not os.path.isdir(args.resume):
            raise _UsageError(_not_a_folder(args.resume, "train SPEC starts a run; --resume takes its folder"))
        if args.steps is not None and args.steps < 0:
            raise _UsageError(f"--steps must be at least 0 (got {args.steps})")
        if not worker:
            _warn_ignored_on_resume(args)
            try:
                check_resume(args.resume, args.steps)
            except StepsBelowCheckpoint as error:  # the option, not the folder, is what is wrong
                raise _UsageError(str(error)) from None
        if launching:
            return _launch(args.argv, args.nproc, Path(args.resume))
        result = resume(args.resume, progress=progress, steps=args.steps, threads=args.threads)
        folder = Path(args.resume)
    else:
        spec, config, folder = _new_run(args, warn=not worker)
        if launching:
            from .training.run import check_new_run

            check_new_run(spec, config, folder)  # once here, not once per process after they have started
            existed = os.path.isdir(folder)
            status = _launch(args.argv, args.nproc, folder)
            if status and not existed and os.path.isdir(folder) and {p.name for p in folder.iterdir()} <= {".lock"}:
                shutil.rmtree(folder, ignore_errors=True)  # the processes failed before writing anything
            return status
        with _removed_if_left_empty(folder):
            result = train(spec, config, folder, resume=False, progress=progress)
    from .training.distributed import CONTEXT

    if not CONTEXT.main:  # under torchrun, rank 0 reports
        return EXIT_OK
    _print_result(result, folder)
    if args.json:
        print(json_text(result))
    return EXIT_OK


def _removed_if_left_empty(folder: Path):
    """Remove ``folder`` again when the command created it and fails before training wrote anything there
    (see :func:`pdedsl.training.run.removed_if_left_empty`)."""
    from .training.run import removed_if_left_empty

    return removed_if_left_empty(folder)



def _new_run(args, warn: bool):
    """``(spec, config, folder)`` of a new run from train's options (usage errors for options no run can use)."""
    from .training import TrainConfig
    from .training.config import TermWeights

    if args.spec is None:
        raise _UsageError("train needs a SPEC (or --resume DIR)")
    spec = _existing(args.spec)
    problem = api.load(spec)
    try:
        config = TrainConfig(backend=args.backend, seed=args.seed, device=args.device, precision=args.precision,
                             threads=args.threads, hard_dirichlet=not args.soft_dirichlet,
                             derivatives=args.derivatives, compile=args.compile, sampling=args.sampling,
                             form=args.form, mode=args.mode, optimizer=args.optimizer,
                             **({} if args.kl_warmup is None else {"kl_warmup": args.kl_warmup}),
                             **({} if args.average is None else {"average": args.average}))
    except FormError as error:  # (its message ends with the text and carets under what it cannot take)
        raise _UsageError(f"--form: {error}") from None
    except ValueError as error:
        raise _UsageError(str(error)) from None
    if args.particles is not None and re.search(r"\bparticles\s*:", args.form or ""):
        raise _UsageError(f"--particles {args.particles} and the form's 'particles:' both give the particle count; "
                          "keep one")
    _refuse_operator_options(args, config.backend)
    for option, attribute in _OPTION_SETTINGS:
        if getattr(args, option) is not None:
            setattr(config, attribute, getattr(args, option))
    if args.instance is not None and args.instance < 0:
        raise _UsageError(f"--instance needs a seed >= 0 (got {args.instance})")
    if warn:
        _warn_if_nothing_to_draw(problem, args.instance)
    if args.init is not None:
        if not os.path.isdir(args.init):
            raise _UsageError("--init " + _not_a_folder(args.init, "--init takes a trained run's folder"))
        config.init = str(Path(args.init).resolve())
    if warn and args.test is not None and args.test_data is not None:
        print(f"pdedsl: warning: --test {args.test} is ignored: the held-out members are all those of --test-data "
              f"{args.test_data}", file=sys.stderr)
    for option, attribute in (("data", "data"), ("test_data", "test_data")):
        if getattr(args, option) is not None:
            setattr(config, attribute, str(Path(_existing(getattr(args, option))).resolve()))
    if config.mode in ("supervised", "hybrid") and config.data is None:  # (an operator's: a pinn refused it)
        raise _UsageError(f"--mode {config.mode} learns from labelled members: pass --data FILE (written by "
                          "'pdedsl data')")
    config.backend_options = {k: getattr(args, k) for k in ("width", "depth", "activation", "modes", "latent",
                                                             "encoder")
                              if getattr(args, k) is not None}
    config.weights = TermWeights(_weights(args.weight))
    try:
        config.check_counts()
    except ValueError as error:
        raise _UsageError(_with_option(str(error), args)) from None
    if warn:  # (not the one that training refuses the spec with: it is said once, as the error)
        from .training.run import nothing_to_train

        refused = nothing_to_train(problem, config)
        from .training.operators import mode_of

        for warning in _warnings_of(problem, form=config.form, physics=mode_of(config) != "supervised"):
            if warning is not refused:
                print(warning.render(), file=sys.stderr)
    return spec, config, Path(args.out or os.path.join("runs", problem.name))


#: train's options (argparse names) that only operator backends read, and the setting each sets.
_OPERATOR_OPTIONS = (("samples", "samples"), ("batch", "batch_size"), ("grid", "grid"), ("test", "test_samples"),
                     ("data", "data"), ("test_data", "test_data"))


def _refuse_operator_options(args, backend: str) -> None:
    """Refuse an operator backend's option typed for a backend that solves one problem, whatever its value:
    the configuration can only see values other than its defaults, so '--grid 0' (its default, 'automatic')
    trained a PINN silently while '--grid -1' was refused."""
    from .backends import is_operator
    from .training.config import operator_settings_refused

    given = [(option, attribute) for option, attribute in _OPERATOR_OPTIONS if getattr(args, option) is not None]
    if given and not is_operator(backend):
        typed = ", ".join(f"--{option.replace('_', '-')} {getattr(args, option)}" for option, _ in given)
        raise _UsageError(f"{typed}: {operator_settings_refused([a for _, a in given], backend)}")


def _weights(items: list[str]) -> dict[str, float]:
    weights = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            if not name.strip() or not is_ascii_number(value):  # ('=3' named no term: it was warned about as an
                raise ValueError  # unknown term named '')
            number = float(value)
        except ValueError:
            raise _UsageError(f"--weight expects NAME=NUMBER, got '{item}'") from None
        name = name.strip()
        if name in weights and weights[name] != number:
            print(f"pdedsl: warning: --weight {name} is given twice ({weights[name]:g}, then {number:g}); the last "
                  "one counts", file=sys.stderr)
        weights[name] = number
    return weights


def _warn_if_nothing_to_draw(problem, instance) -> None:
    """``--instance SEED`` on a spec with nothing random would pass unnoticed: say the seed does nothing."""
    from .runtime.instances import draws_anything

    if instance is not None and not draws_anything(problem):
        print(f"pdedsl: warning: --instance {instance}: {problem.name} has no random input or param to draw; "
              "the seed changes nothing", file=sys.stderr)


def _print_result(result: dict, folder: Path) -> None:
    print(f"trained {result['problem']} ({result['backend']}, {result['steps']} steps, {result['wall_s']} s) -> {folder}")
    from .training.metrics import describe

    for field, error in result["rel_l2"].items():
        print(f"  {describe(field, error, result.get('rms_error', {}).get(field))}")
    posterior = result.get("posterior", {})
    for name, value in posterior.get("params", result["params"]).items():
        print(f"  inferred {name} = {_estimate_text(posterior, name, value)}")
    for note in posterior.get("uncertainty_notes", []):
        print(f"  note: {note}")
    if result.get("test_samples"):
        print(f"  (mean over {result['test_samples']} held-out members)")
    if result.get("note"):
        print(f"  note: {result['note']}")
    if result.get("skipped_steps"):
        print(f"  {result['skipped_steps']} steps skipped (non-finite loss)")


def _infer(args) -> int:
    spec = _existing(args.spec)
    problem = api.load(spec)
    for warning in _warnings_of(problem):
        print(warning.render(), file=sys.stderr)
    folder = Path(args.out or os.path.join("runs", f"{problem.name}_infer"))
    for option in ("restarts", "map_steps", "draws", "chains", "mala_steps"):  # (with --model or not: no run
        if getattr(args, option) < 1:                                           # can use a count below 1)
            raise _UsageError(f"--{option.replace('_', '-')} needs a positive number (got {getattr(args, option)})")
    if args.model is not None:
        from .training.inference import infer
        from .training.inverse import InferError, Settings

        if not os.path.isdir(args.model):
            raise _UsageError(_not_a_folder(args.model, "--model takes the folder of a dgno run"))
        if args.particles is not None and args.particles < 1:
            raise _UsageError(f"--particles needs a positive number (got {args.particles})")
        try:  # options that do not fit together (too few draws for a band, too short chains) are usage errors
            settings = Settings(restarts=args.restarts, adam_steps=args.map_steps, samples=args.draws,
                                seed=args.seed, sampler=args.sampler, chains=args.chains,
                                mala_steps=args.mala_steps, model_error=not args.no_model_error, prior=args.prior,
                                particles=args.particles or 0,
                                **({} if args.lbfgs_steps is None else {"lbfgs_steps": args.lbfgs_steps}))
        except InferError as error:
            raise _UsageError(str(error)) from None
        for option in ("steps", "lbfgs_steps"):
            value = getattr(args, option)
            if value is not None and value < 0:
                raise _UsageError(f"--{option.replace('_', '-')} must be at least 0 (got {value})")
        ignored = [f"--{o.replace('_', '-')}" for o in ("steps", "instance") if getattr(args, o) is not None]
        if ignored:
            print(f"pdedsl: warning: {', '.join(ignored)} set{'s' if len(ignored) == 1 else ''} the PINN fit without "
                  "--model; with a dgno model they do nothing", file=sys.stderr)
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        with _removed_if_left_empty(folder):
            report = infer(spec, args.model, folder, settings, progress=not args.quiet)
    else:
        from .training.inference import infer_scalars

        if args.instance is not None and args.instance < 0:
            raise _UsageError(f"--instance needs a seed >= 0 (got {args.instance})")
        _warn_if_nothing_to_draw(problem, args.instance)
        for option in ("steps", "lbfgs_steps", "threads"):
            value = getattr(args, option)
            if value is not None and value < 0:
                raise _UsageError(f"--{option.replace('_', '-')} must be at least 0 (got {value})")
        infer_defaults = vars(_parser().parse_args(["infer", args.spec]))
        ignored = [f"--{o.replace('_', '-')}" for o in ("restarts", "map_steps", "draws", "chains", "mala_steps",
                                                        "sampler", "prior", "particles")
                   if getattr(args, o) != infer_defaults[o]] + (["--no-model-error"] if args.no_model_error else [])
        if ignored:
            print(f"pdedsl: warning: {', '.join(ignored)} set{'s' if len(ignored) == 1 else ''} the posterior of a "
                  "dgno model (--model); without one they do nothing", file=sys.stderr)
        with _removed_if_left_empty(folder):
            report = infer_scalars(spec, folder, steps=args.steps, seed=args.seed, progress=not args.quiet,
                                   lbfgs_steps=args.lbfgs_steps, instance=args.instance, threads=args.threads)
    _print_inference(report, folder)
    if args.json:
        print(json_text(report))
    return EXIT_OK


def _estimate_text(report: dict, name: str, value: float) -> str:
    """``0.2511 +- 0.00084 (posterior std; 95%: [0.2495, 0.2527])``, with the fit's own value where a prior moved
    the mean away from it."""
    text = f"{value:.6g}"
    spread = report.get("params_std", {}).get(name)
    if spread is None:
        return text
    text += f" +- {spread:.2g} (posterior std"
    interval = report.get("params_interval_95", {}).get(name)
    if interval is not None and math.isfinite(spread):
        text += f"; 95%: [{interval[0]:.6g}, {interval[1]:.6g}]"
    fit = report.get("params_fit", {}).get(name)
    if fit is not None and math.isfinite(spread) and abs(fit - value) > 1e-3 * max(spread, 1e-300):
        text += f"; the fit itself {fit:.6g}"
    return text + ")"


def _print_inference(report: dict, folder: Path) -> None:
    print(f"inferred {', '.join(report['inferred'])} for {report['problem']} ({report['wall_s']} s) -> {folder}")
    print(f"  method: {report['method']}")
    if report.get("prior"):
        print(f"  prior: {report['prior']}")
    if report.get("acceptance") is not None:
        print(f"  acceptance rate of the Langevin chains: {report['acceptance']:.2f}")
    if report.get("uncertainty"):
        print(f"  uncertainty: {report['uncertainty']}")
    for name, value in report.get("params", {}).items():
        print(f"  {name} = {_estimate_text(report, name, value)}")
    for note in report.get("uncertainty_notes", []):
        print(f"  note: {note}")
    error = report.get("model_error")
    if error is not None:
        print("  model error: " + (", ".join(f"{n} bias {v['mean_abs_bias']:.2g}, std {v['mean_std']:.2g} "
                                               f"({error['members']} members)" for n, v in error["fields"].items())
                                   if error["used"] else f"not used ({error['why']})"))
    for name, scores in report.get("truth", {}).items():
        print(f"  {name}: relative L2 error of the posterior mean {scores['rel_l2']:.3e}, "
              f"95% band covers {100 * scores['coverage_95']:.1f}% of the grid")
        if "phase_error" in scores:
            print(f"    two-valued: band holds both values at {100 * scores['two_valued_band']:.1f}% of the grid; "
                  f"phase probabilities off by {scores['phase_error']:.3f} (expected calibration error)")


def _not_a_folder(path: str, takes: str) -> str:
    """Why ``path`` is no run folder: not there, or a file (``takes``: what the option wants)."""
    return f"{path}: a file, not a run folder ({takes})" if os.path.exists(path) else f"{path}: no such run folder"


def _named_run(path: str) -> str:
    """A run (or infer) folder that ``predict`` or ``plot`` reads: one that does not exist is a usage error, as it
    is for ``train --resume`` and ``infer --model`` (other failures to read it, a name too long say, are the
    run folder's, exit 1, reported where it is opened)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _UsageError(f"{path}: no such run folder") from None
    except (OSError, ValueError):
        return path
    if stat.S_ISREG(mode):
        raise _UsageError(_not_a_folder(path, "predict and plot take the folder of a run or of 'pdedsl infer'"))
    return path


def _predict(args) -> int:
    from .training.predict import PredictError, check_output, predict

    run, points = _named_run(args.run), _existing(args.points)
    try:  # an -o over a spec, the points or the run is a slip of the command line, as compile -o x.pde is
        check_output(run, points, args.output)
    except PredictError as error:
        raise _UsageError(str(error)) from None
    summary = predict(run, points, args.output, layout=args.layout)
    print(f"wrote {args.output}", file=sys.stderr)
    if summary.get("outside_domain"):
        print(f"pdedsl: warning: {summary['outside_domain']} of the {summary['points']} points lie outside the "
              "domain or time interval; the model extrapolates there", file=sys.stderr)
    return EXIT_OK


def _plot(args) -> int:
    from .training.plot import PlotOptionError, plot

    at = {}
    for item in args.at:
        name, _, value = item.partition("=")
        try:
            if not is_ascii_number(value):
                raise ValueError
            number = float(value)
        except ValueError:
            raise _UsageError(f"--at expects NAME=NUMBER, got '{item}'") from None
        if not math.isfinite(number):
            raise _UsageError(f"--at {name.strip()}={value.strip()}: the value must be a finite number")
        at[name.strip()] = number
    if args.spec is not None or (args.run.endswith(".npz") and os.path.isfile(args.run)):
        return _plot_data(args, at)
    try:
        output = plot(_named_run(args.run), args.output, at=at)
    except PlotOptionError as error:
        raise _UsageError(str(error)) from None
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK


def _plot_data(args, at) -> int:
    """``pdedsl plot FILE.npz --spec SPEC``: the first samples of a data file."""
    from .training.data_views import plot_data
    from .training.plot import PlotError

    if args.spec is None:
        raise _UsageError(f"{args.run} is a data file: plot it with --spec SPEC, the spec that made it")
    if at:
        raise _UsageError("--at holds a coordinate of a PINN run's plot; a data file's is drawn at its nodes")
    if not os.path.isfile(args.run):
        raise _UsageError(f"{args.run}: no such data file (with --spec, plot draws a file of 'pdedsl data')")
    problem = api.load(_existing(args.spec), observations_read=False)
    output = Path(args.output) if args.output else Path(args.run).with_suffix(".png")
    if output.is_dir():
        output = output / "plot.png"
    if output.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise _UsageError(f"-o {output}: a plot is written as .png, .pdf or .svg")
    try:
        written = plot_data(problem, args.run, output)
    except PlotError as error:
        raise PdeError(str(error)) from None
    print(f"wrote {written}", file=sys.stderr)
    return EXIT_OK


def _data(args) -> int:
    from .reference.data_file import generate_into
    from .reference.from_spec import ReferenceError
    from .training.progress import Progress

    if args.n < 1 or (args.grid is not None and args.grid < 3):
        raise _UsageError(f"data needs --n of at least 1 and --grid of at least 3 nodes per axis "
                          f"(got --n {args.n}, --grid {args.grid})")
    output = Path(args.output)
    if output.suffix == ".pde" or (output.exists() and output.resolve() == Path(args.spec).resolve()):
        raise _UsageError(f"-o {output} would overwrite a spec with data; write the samples to a .npz file")
    problem = api.load(_existing(args.spec), observations_read=False)  # (the data may be what they will be)
    for warning in problem.warnings:
        print(warning.render(), file=sys.stderr)
    _check_writable(output)
    bar = Progress(args.n, enabled=not args.quiet)
    try:
        arrays, _ = generate_into(problem, api.source_of(Path(args.spec)).text, args.n, args.grid, args.seed,
                                  output, progress=bar, say=lambda line: print(f"pdedsl: {line}", file=sys.stderr))
    except ReferenceError as error:  # at the statement the solver cannot take, like any error in a spec
        raise PdeError(error.located(problem)) from None
    except OSError as error:
        raise _unwritable(args.output, error) from None
    finally:
        bar.close()
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in arrays.items())
    print(f"wrote {args.output}: {shapes}", file=sys.stderr)
    return EXIT_OK


_COMMANDS = {"check": _check, "show": _show, "emit": _emit, "compile": _compile, "train": _train,
             "infer": _infer, "predict": _predict, "plot": _plot, "data": _data}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
