"""The ``pdedsl`` command line: a thin layer over :mod:`pdedsl.api`.

Exit codes: 0 success, 1 the spec has errors, 2 usage errors (bad options,
missing files), 3 an internal error (a bug in pdedsl).
"""

from __future__ import annotations

import argparse
import os
import sys

from pathlib import Path

from . import __version__, api, compiler
from .errors import InternalError, SpecError

EXIT_OK, EXIT_SPEC, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdedsl",
        description="Compile .pde specifications of PDE problems.",
    )
    parser.add_argument("--version", action="version", version=f"pdedsl {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    check = commands.add_parser("check", help="check specs and report every error")
    check.add_argument("specs", nargs="+", metavar="SPEC", help=".pde files")
    check.add_argument("-q", "--quiet", action="store_true", help="print only errors and warnings")

    show = commands.add_parser("show", help="show a spec's equations and conditions as mathematics")
    show.add_argument("spec", metavar="SPEC")
    show.add_argument("--latex", action="store_true", help="print LaTeX instead of Unicode")

    emit = commands.add_parser("emit", help="print an intermediate stage of the compiler")
    emit.add_argument("--stage", choices=STAGES, default="ir", help="which stage (default: ir)")
    emit.add_argument("spec", metavar="SPEC")

    compile_ = commands.add_parser("compile", help="generate the PyTorch module for a spec")
    compile_.add_argument("spec", metavar="SPEC")
    compile_.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    return parser


STAGES = ("ast", "ir", "lowered", "code")


def main(argv: list[str] | None = None) -> int:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed its usage message
        return EXIT_USAGE if exit_.code not in (0, None) else EXIT_OK
    try:
        return _COMMANDS[args.command](args)
    except SpecError as error:
        print(error.render(), file=sys.stderr)
        return EXIT_SPEC
    except _UsageError as error:
        print(f"pdedsl: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("pdedsl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence: never a traceback
        if os.environ.get("PDEDSL_DEBUG"):
            raise
        bug = error if isinstance(error, InternalError) else InternalError(f"{type(error).__name__}: {error}")
        print(f"pdedsl: {bug}\n(set PDEDSL_DEBUG=1 to see the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


class _UsageError(Exception):
    pass


def _existing(path: str) -> str:
    if not os.path.exists(path):
        raise _UsageError(f"{path}: no such file")
    if os.path.isdir(path):
        raise _UsageError(f"{path}: is a directory")
    return path


def _check(args) -> int:
    status = EXIT_OK
    for path in args.specs:
        if not os.path.isfile(path):
            print(f"pdedsl: error: {path}: {'is a directory' if os.path.isdir(path) else 'no such file'}",
                  file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        try:
            problem = api.load(path)
        except SpecError as error:
            print(error.render(), file=sys.stderr)
            status = max(status, EXIT_SPEC) if status != EXIT_USAGE else status
            continue
        for warning in problem.warnings:
            print(warning.render(), file=sys.stderr)
        if not args.quiet:
            print(f"{path}: ok ({_summary(problem)})")
    return status


def _summary(problem) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")

    parts = [f"problem {problem.name}", count(len(problem.fields), "field"), count(len(problem.equations), "equation"),
             count(len(problem.boundary_conditions) + len(problem.initial_conditions), "condition")]
    if problem.warnings:
        parts.append(count(len(problem.warnings), "warning"))
    return ", ".join(parts)


def _show(args) -> int:
    from .ir.listing import show_problem

    problem = api.load(_existing(args.spec))
    sys.stdout.write(show_problem(problem, latex=args.latex))
    return EXIT_OK


def _emit(args) -> int:
    path = _existing(args.spec)
    if args.stage == "ast":
        from .frontend.ast_printer import format_ast

        sys.stdout.write(format_ast(api.parse(path)))
    elif args.stage == "ir":
        from .ir.listing import format_problem

        sys.stdout.write(format_problem(api.load(path)))
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
    temporary = output.with_name(output.name + ".tmp")
    try:
        temporary.write_text(source, encoding="utf-8")
        os.replace(temporary, output)  # never leaves a half-written module behind
    except OSError as error:
        raise _UsageError(f"cannot write {output}: {error.strerror or error}") from None
    print(f"wrote {output}", file=sys.stderr)
    return EXIT_OK


_COMMANDS = {"check": _check, "show": _show, "emit": _emit, "compile": _compile}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
