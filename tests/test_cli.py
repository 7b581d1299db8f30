"""The command line: exit codes, outputs, and hostile inputs (never a traceback)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pdedsl
from pdedsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = "problem p\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\nequation in O:\n    -laplace(u) = 1\n" \
       "boundary on boundary(O):\n    u = 0\n"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def test_check_ok(tmp_path, capsys):
    assert main(["check", write(tmp_path, "good.pde", GOOD)]) == 0
    out = capsys.readouterr().out
    assert "good.pde: ok (problem p, 1 field, 1 equation, 1 condition)" in out


def test_check_spec_error_exit_1_with_located_message(tmp_path, capsys):
    path = write(tmp_path, "bad.pde", GOOD.replace("laplace", "lapalce"))
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert f"{path}:5:6: error: unknown operator 'lapalce'" in err
    assert "        -lapalce(u) = 1\n         ^^^^^^^\nhint: did you mean 'laplace'?" in err


def test_a_misspelt_call_where_a_name_goes_gets_a_did_you_mean(tmp_path, capsys):
    path = write(tmp_path, "typo.pde", GOOD.replace("on boundary(", "on boundry("))
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert "error: unexpected '('" in err and "hint: did you mean 'boundary'?" in err


@pytest.mark.parametrize("declared, used, hint", [
    ("\ufb01", "fi", "hint: did you mean '\ufb01'? ('\ufb01' is U+FB01 LATIN SMALL LIGATURE FI)"),
    ("H", "\u210c", "hint: did you mean 'H'? ('\u210c' is U+210C BLACK-LETTER CAPITAL H)"),
    ("A", "a", "hint: did you mean 'A'?"),
    ("w", "\u0445", "hint: '\u0445' is U+0445 CYRILLIC SMALL LETTER HA"),
])
def test_a_look_alike_name_is_named_in_the_hint(tmp_path, capsys, declared, used, hint):
    path = write(tmp_path, "alike.pde", GOOD.replace("field u", f"field u\nconst {declared} = 1\nconst k = {used}"))
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert f"error: unknown name '{used}'" in err and hint in err


@pytest.mark.parametrize("option, message", [
    (["--lr", "-1"], "learning_rate must be a positive number"), (["--points", "0"], "interior_points must be"),
    (["--width", "0"], "width must be at least 1"), (["--particles", "-3"], "weak form's particles must be"),
    (["--steps", "-5"], "steps must be at least 0"), (["--weight", "equation_1=nan"], "weight of 'equation_1'"),
    (["--weight", "=3"], "--weight expects NAME=NUMBER, got '=3'"),
    (["--form", "weak(particles: -3)"], "weak form's particles must be"),
    (["--form", "weak(top_k: -1)"], "weak form's top_k must be at least 0"),
    (["--form", "weak(particles: 30)", "--particles", "40"], "both give the particle count"),
    (["--form", "weak(particles: 30, top_k: 31)"], "top_k (31) is more than its particles (30)"),
    (["--form", "weak(quadrature: -1)"], "weak form's quadrature must be at least 0"),
    (["--form", "weak(quadrature: 2)"], "weak form's quadrature must be 0 (the default) or at least 4"),
    (["--form", "strong(particles: 3)"], "the strong form takes no options"),
    (["--form", "weak(mismatch_power: 1)"], "mismatch_power weighs the mixed form's flux mismatch"),
    (["--form", "weak(particles: 30, particles: 40)"], "form option 'particles' is given twice"),
    (["--device", "gpu"], "unknown device 'gpu'"),
    # (the rate rose to lr * 1e30, every step was skipped as non-finite, and the run ended 'trained')
    (["--decay", "1e30"], "decay is the factor the learning rate falls by over the Adam steps, in (0, 1] (got 1e+30)"),
    (["--decay", "2"], "decay is the factor the learning rate falls by over the Adam steps, in (0, 1] (got 2)"),
    (["--form", "weak(radius: -1)"], "weak form's radius must be a positive number"),
    # (a subnormal radius's inverse overflows: every residual was NaN, and the error blamed the equation)
    (["--form", "weak(radius: 1e-320)"], "weak form's radius must be a positive number of at least 2.2e-308"),
    (["--form", "weak(radius: 0.1, radius_min: 1e-310)"], "weak form's radius_min must be a positive number"),
    (["--form", "weak(radius: 0.01, radius_min: 0.1)"], "radius_min (0.1) is larger than its radius (0.01)")])
def test_training_options_no_run_can_use_are_usage_errors(tmp_path, capsys, option, message):
    assert main(["train", write(tmp_path, "good.pde", GOOD), "--out", str(tmp_path / "run"), *option]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()



@pytest.mark.parametrize("option, message", [
    (["--points", "0"], "--points 0: interior_points must be at least 1 (got 0)"),
    (["--lr", "-1"], "--lr -1: learning_rate must be a positive number (got -1.0)"),
    (["--batch", "5"], "--batch 5: batch_size sets how operator backends learn a family of problems"),
    (["--test", "3"], "--test 3: test_samples sets how operator backends learn a family of problems"),
    (["--eval-every", "-2"], "--eval-every -2: eval_every must be at least 0 (got -2)")])
def test_a_refused_count_names_the_option_it_was_given_with(tmp_path, capsys, option, message):
    """The checks are the Python API's too, so they name its settings ('interior_points'), which the command
    line does not know: the option and value typed come first."""
    assert main(["train", write(tmp_path, "good.pde", GOOD), "--out", str(tmp_path / "run"), *option]) == 2
    assert f"pdedsl: error: {message}" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--grid", "0"], ["--grid", "-1"], ["--grid", "29"], ["--samples", "1000"],
                                    ["--batch", "50"], ["--test", "100"]])
def test_an_operator_option_given_to_a_pinn_is_refused_whatever_its_value(tmp_path, capsys, option):
    """'--grid 0' (the API's default, 'automatic') trained a PINN silently while '--grid -1' was refused as an
    operator-only option; an option typed is refused whether or not its value is the default."""
    assert main(["train", write(tmp_path, "good.pde", GOOD), "--out", str(tmp_path / "run"), *option]) == 2
    err = capsys.readouterr().err
    assert f"pdedsl: error: {' '.join(option)}: " in err and "sets how operator backends learn" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("option", ["--restarts", "--map-steps", "--draws", "--chains", "--mala-steps"])
@pytest.mark.parametrize("value", ["0", "-1"])
def test_infer_refuses_a_count_below_one_with_or_without_a_model(tmp_path, capsys, option, value):
    """Without --model these options do nothing (and are said to); a value no run can use was still accepted."""
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["infer", spec, "--out", str(tmp_path / "run"), option, value]) == 2
    assert f"pdedsl: error: {option} needs a positive number (got {value})" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


HUGE = "99999999999999999999999"  # more than the 64-bit integers torch and numpy hold


@pytest.mark.parametrize("argv", [
    ["train", "{spec}", "--width", HUGE], ["train", "{spec}", "--depth", HUGE], ["train", "{spec}", "--points", HUGE],
    ["train", "{spec}", "--threads", HUGE], ["train", "{spec}", "--seed", HUGE], ["train", "{spec}", "--nproc", HUGE],
    ["infer", "{spec}", "--threads", HUGE], ["infer", "{spec}", "--seed", HUGE], ["data", "{spec}", "--grid", HUGE,
                                                                                   "-o", "{out}.npz"]])
def test_a_whole_number_too_large_for_64_bits_is_a_usage_error(tmp_path, capsys, argv):
    """Was an internal error (torch's 'Overflow when unpacking long long') or, for --nproc, a launch of torchrun
    that never ended."""
    spec = write(tmp_path, "good.pde", GOOD)
    argv = [a.format(spec=spec, out=tmp_path / "out") for a in argv]
    assert main([*argv, *(["--out", str(tmp_path / "run")] if argv[0] != "data" else [])]) == 2
    option = next(a for a in argv if a.startswith("--") and argv[argv.index(a) + 1] == HUGE)
    assert f"argument {option}: {HUGE} is too large (at most 9223372036854775807)" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("argv", [
    ["compile", "{spec}", "-o", ""], ["data", "{spec}", "-o", ""], ["predict", "{run}", "--points", "{pts}", "-o", ""],
    ["predict", "{run}", "--points", "", "-o", "{out}"], ["plot", "{run}", "-o", ""], ["train", "{spec}", "--out", ""],
    ["train", "--resume", ""], ["train", "{spec}", "--init", ""], ["train", "{spec}", "--data", ""],
    ["infer", "{spec}", "--out", ""], ["infer", "{spec}", "--model", ""]])
def test_an_empty_file_or_folder_name_is_a_usage_error(tmp_path, capsys, monkeypatch, argv):
    """Was an internal error (compile, data, predict: 'PosixPath('.') has an empty name'), or the option taken as
    not given: train --resume '' started a new run, --out '' trained into runs/PROBLEM, plot -o '' wrote
    plot.png into the working folder."""
    monkeypatch.chdir(tmp_path)
    spec = write(tmp_path, "good.pde", GOOD)
    argv = [a.format(spec=spec, run=tmp_path / "run", pts=spec, out=tmp_path / "out.npz") for a in argv]
    assert main(argv) == 2
    option = {"-o": "-o/--output"}.get(argv[argv.index("") - 1], argv[argv.index("") - 1])
    assert f"argument {option}: an empty name names no file or folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.pde"]

def test_a_run_folder_that_cannot_be_one_is_refused(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--steps", "1", "-q", "--out", str(blocker / "run")]) == 1
    assert "cannot use" in capsys.readouterr().err and blocker.read_text() == "a file"
    long = GOOD.replace("problem p", "problem " + "p" * 300)  # runs/<problem name>: longer than a file name
    monkeypatch.chdir(tmp_path)
    for argv in (["train", write(tmp_path, "long.pde", long), "--steps", "1", "-q"],
                 ["train", spec, "--steps", "1", "-q", "--out", "q" * 300],
                 ["infer", write(tmp_path, "long.pde", long), "-q"]):
        assert main(argv) == 1
        assert "as a run folder: File name too long" in capsys.readouterr().err
    for argv in (["plot", "q" * 300], ["predict", "q" * 300, "--points", spec, "-o", "out.npz"]):
        assert main(argv) == 1  # was an internal error (OSError from Path.is_file)
        assert "is not a pdedsl run folder" in capsys.readouterr().err
    for argv in (["plot", str(tmp_path / "nothere")], ["predict", str(tmp_path / "nothere"), "--points", spec, "-o",
                                                         "out.npz"]):
        assert main(argv) == 2  # a folder that is not there is a usage error, as for train --resume (was exit 1)
        assert "nothere: no such run folder" in capsys.readouterr().err
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "spec.pde").write_text(GOOD)
    (damaged / "config.json").write_text("{")
    assert main(["train", "--resume", str(damaged)]) == 1
    assert "config.json cannot be read" in capsys.readouterr().err


def test_check_several_files_reports_each(tmp_path, capsys):
    good = write(tmp_path, "a.pde", GOOD)
    bad = write(tmp_path, "b.pde", GOOD.replace("field u", "field u, u"))
    assert main(["check", good, bad]) == 1
    captured = capsys.readouterr()
    assert "a.pde: ok" in captured.out and "b.pde:3:10: error: 'u' is already defined" in captured.err


@pytest.mark.parametrize("argv", [[], ["check"], ["frobnicate"], ["emit", "--stage", "nope", "x.pde"],
                                  ["data", "specs/darcy_smooth.pde", "--n", "0", "-o", "x.npz"],
                                  ["data", "specs/darcy_smooth.pde", "--grid", "2", "-o", "x.npz"],
                                  ["train", "specs/poisson.pde", "--instance", "-1"],
                                  ["train", "specs/poisson.pde", "--backend", "bogus"],
                                  ["data", "specs/darcy_smooth.pde", "--seed", "-1", "-o", "x.npz"],
                                  ["train", "specs/darcy_smooth.pde", "--backend", "deeponet", "--seed", "-1"],
                                  ["infer", "specs/heat_inverse.pde", "--seed", "-1"]])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2


def test_an_instance_seed_on_a_spec_with_nothing_random_is_warned_about(tmp_path, capsys):
    assert main(["train", "specs/poisson.pde", "--instance", "3", "--steps", "1", "--lbfgs-steps", "0",
                 "--points", "20", "-q", "--out", str(tmp_path / "run")]) == 0
    assert "--instance 3: poisson2d has no random input or param to draw" in capsys.readouterr().err
    assert main(["train", "specs/darcy_smooth.pde", "--instance", "3", "--steps", "1", "--lbfgs-steps", "0",
                 "--points", "20", "-q", "--out", str(tmp_path / "drawn")]) == 0
    assert "no random input" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["check", "show", "train", "plot"])
def test_an_unknown_option_is_reported_with_its_commands_usage(command, capsys):
    assert main([command, "--bogus", "x.pde"]) == 2
    err = capsys.readouterr().err
    assert f"usage: pdedsl {command} " in err and f"pdedsl {command}: error: unrecognized arguments: --bogus" in err



@pytest.mark.parametrize("argv", [["check", "--bogus"], ["predict", "--bogus"], ["data", "--bogus", "--n", "-1"],
                                  ["plot", "--bogus=1"], ["compile", "-x"]])
def test_an_unknown_option_is_reported_before_a_missing_argument(argv, capsys):
    """README: `pdedsl check --bogus` shows check's usage, and the option typed is what is wrong: it was
    'the following arguments are required: SPEC', which sent the user to fix something else first."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"usage: pdedsl {argv[0]} " in err and f"pdedsl {argv[0]}: error: unrecognized arguments: {argv[1]}" in err


def test_a_missing_argument_is_still_named_beside_known_options_and_abbreviations(capsys):
    for argv in (["check", "-q"], ["predict", "--poi", "p.npz", "-o", "o.npz"], ["data", "--n", "-1"]):
        assert main(argv) == 2
        assert "the following arguments are required" in capsys.readouterr().err, argv

def test_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.pde")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["show", str(tmp_path)]) == 2
    os.mkfifo(tmp_path / "pipe.pde")  # reading it would block: refused for what it is
    for command in ("check", "show", "compile"):
        assert main([command, str(tmp_path / "pipe.pde")]) == 2
        assert "is not a regular file" in capsys.readouterr().err


def test_show_and_latex(tmp_path, capsys):
    path = write(tmp_path, "good.pde", GOOD)
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert "equation equation_1 in O:" in out and "-Δu = 1" in out
    assert main(["show", "--latex", path]) == 0
    assert r"- \Delta u = 1" in capsys.readouterr().out


def test_latex_spells_greek_names_as_macros(tmp_path, capsys):
    """pdflatex reads no Unicode Greek: show --latex writes TeX's letters (φ is TeX's varphi)."""
    path = write(tmp_path, "greek.pde", "problem greek\ndomain O = interval(x: [0, 1])\nfield φ\nconst κ = 2\n"
                 "param λ_1 = 1\nparam Γ = 1\nparam Α = 1\nequation in O:\n    -κ * d(φ, x, 2) + λ_1 * φ = Γ + Α\n")
    assert main(["show", "--latex", path]) == 0
    out = capsys.readouterr().out
    assert r"- {\kappa} \frac{\partial^{2} {\varphi}}{\partial x^{2}} + {\lambda}_{1} {\varphi} = {\Gamma} + {A}" in out
    # a name Δ is slanted, so that it does not read as the Laplacian beside it; an upright name keeps its letters
    path = write(tmp_path, "delta.pde", "problem g\ndomain O = interval(x: [0, 1])\nfield u, Δ, _ω\nconst ν = 2\n"
                 "equation in O:\n    ν*u = Δ*laplace(u) + _ω*x\n")
    assert main(["show", "--latex", path]) == 0
    assert "\n    {\\nu} u = \\mathit{\\Delta} \\Delta u + \\mathrm{\\_{\\omega}} x\n" in capsys.readouterr().out


def test_show_writes_what_was_meant(tmp_path, capsys):
    """Fractions and powers print as written (no 1-factors, x^(3/2) not x^3/2); names that are not valid
    TeX, or that read as an operator, are set upright."""
    path = write(tmp_path, "rat.pde", "problem rat\ndomain O = interval(x: [0.5, 1])\nfield u, Delta, _v\n"
                 "equation in O:\n    u = x^(3/2) + 1/u^2 + Delta*laplace(_v)\n")
    assert main(["emit", "--stage", "lowered", path]) == 0
    assert "x^(3/2)" in capsys.readouterr().out
    assert main(["show", "--latex", path]) == 0
    latex = capsys.readouterr().out
    assert r"x^{\frac{3}{2}} + \frac{1}{u^{2}} + \mathrm{Delta} \Delta \mathrm{\_v}" in latex
    assert main(["show", path]) == 0
    assert "1⋅" not in capsys.readouterr().out


def test_latex_sets_long_names_upright_and_vectors_in_one_bracket(tmp_path, capsys):
    """A name of several letters (``kk``, ``Re``) read as a product of letters slanted side by side: it is set
    upright, as its subscripts are; Greek names stay letters and ``u1``/``u_x`` subscripted. A vector literal's
    matrix is its own bracket: ``div((u, u1))`` had a pair of round brackets around it as well."""
    path = write(tmp_path, "long.pde", "problem p\ndomain B = box(x: [0, 1], y: [0, 1])\nfield u, u1, u_x, vel\n"
                 "const kk = 2\nconst alpha = 1\nconst nu_eff = 0.1\nconst Re = 3\nequation in B:\n"
                 "    -kk*laplace(u) + div((u, u1)) + alpha*Re*nu_eff*u_x = 1\n    vel = dot(laplace((u, u1)), (u1, u))\n")
    assert main(["show", "--latex", path]) == 0
    out = capsys.readouterr().out
    assert (r"- \mathrm{kk} \Delta u + \nabla \cdot \begin{pmatrix}u \\ u_{1}\end{pmatrix} + \alpha \mathrm{Re} "
            r"\nu_{\mathrm{eff}} u_{x} = 1") in out
    assert (r"\mathrm{vel} = \left(\Delta \begin{pmatrix}u \\ u_{1}\end{pmatrix}\right) \cdot "
            r"\begin{pmatrix}u_{1} \\ u\end{pmatrix}") in out
    assert r"\left(\begin{pmatrix}" not in out


def test_show_gathers_minus_signs_and_drops_factors_of_one(tmp_path, capsys):
    path = write(tmp_path, "signs.pde", "problem s\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\nconst c = 2\n"
                 "equation in O:\n    -laplace(u) + 2*(-(x - y))*u + 1.0*y*u + x*(-3)*(-u) = c*(-(x - y))\n")
    assert main(["show", path]) == 0
    assert "-Δu - 2⋅(x - y)⋅u + y⋅u + 3⋅x⋅u = -c⋅(x - y)" in capsys.readouterr().out
    assert main(["show", "--latex", path]) == 0
    assert r"- \Delta u - 2 \left(x - y\right) u + y u + 3 x u = - c \left(x - y\right)" in capsys.readouterr().out
    assert main(["emit", "--stage", "ir", path]) == 0  # the language's own listing is left as written
    assert "2*(-(x - y))*u + 1.0*y*u" in capsys.readouterr().out


def test_a_negative_number_after_a_symbol_leads_its_product(tmp_path, capsys):
    """``x*(-2)*u`` reads ``-2 x u``: the sign gathered in front joins the product's number (it read
    ``-1⋅2⋅x⋅u`` and ``\\left(-1\\right) 2 x u``), also under a power, a fraction and a reciprocal."""
    path = write(tmp_path, "lead.pde", "problem s\ndomain O = box(x: [0.5, 1], y: [0, 1])\nfield u, v\n"
                 "equation in O:\n    x*(-2)*u + u*(-1.5)*v + (x*(-2))^2*u + u/(x*(-2)) + u*x^(-1)*(-2) = 1\n"
                 "    -laplace(v) = 0\n")
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert "-1⋅" not in out and "-2⋅x⋅u - 1.5⋅u⋅v" in out
    assert main(["show", "--latex", path]) == 0
    latex = capsys.readouterr().out
    assert r"\left(-1\right)" not in latex
    assert r"- 2 x u - 1.5 u v + \left(- 2 x\right)^{2} u" in latex
    path = write(tmp_path, "lead2.pde", "problem s\ndomain O = box(x: [0.5, 1], y: [0, 1])\nfield u\n"
                 "equation in O:\n    (-x)*y*(-u)*(-2) = (-x)*(-y)*u\n")
    assert main(["show", path]) == 0  # (-x*y*(-u)*(-2): the -1 of -x and the -2 are two numbers)
    assert "-2⋅x⋅y⋅u = x⋅y⋅u" in capsys.readouterr().out
    path = write(tmp_path, "lead3.pde", "problem s\ndomain O = box(x: [0.5, 1], y: [0, 1])\nfield u\n"
                 "equation in O:\n    u/(x*(-2)) + u/(-x)/(-2) = u*(-x)^(-3)\n")
    assert main(["show", "--latex", path]) == 0  # a reciprocal of a negative product (an odd power) too
    assert r"- \frac{u}{2 x} + \frac{u}{2 x} = - \frac{u}{x^{3}}" in capsys.readouterr().out


def test_numbers_lead_a_denominator(tmp_path, capsys):
    path = write(tmp_path, "frac.pde", "problem p\ndomain O = interval(x: [0.5, 1])\nfield u\nconst y0 = 2\n"
                 "equation in O:\n    u/x/2 + 3*u/(x*y0) = 2*x/3\n")
    assert main(["show", "--latex", path]) == 0
    assert r"\frac{u}{2 x} + \frac{3 u}{x y_{0}} = \frac{2 x}{3}" in capsys.readouterr().out
    assert main(["emit", "--stage", "ir", path]) == 0
    assert "u/x/2 + 3*u/(x*y0) = 2*x/3" in capsys.readouterr().out  # the spec's own order


def test_show_says_when_the_start_is(tmp_path, capsys):
    path = write(tmp_path, "late.pde", "problem p\ndomain O = interval(x: [0, 1])\ntime t: [1, 3]\nfield u\n"
                 "equation in O:\n    dt(u) = d(u, x, 2)\ninitial:\n    u = x\n")
    assert main(["show", path]) == 0
    assert "initial initial_1 (at t = 1):\n    u = x" in capsys.readouterr().out


def test_show_lists_regions_and_lets(tmp_path, capsys):
    path = write(tmp_path, "let.pde", "problem p\ndomain O = box(x: [0, 1], y: [0, 1])\n"
                 "region left = boundary(O) where x == 0 or y == 1\nfield u\ninput a = 1 + x\n"
                 "let flux = a * grad(u)\nequation in O:\n    -div(flux) = 1\nboundary on left:\n    u = 0\n")
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert "  region left = boundary(O) where x == 0 or y == 1\n" in out
    assert "  let flux = a*grad(u)\n" in out


def test_compile_writes_a_module_and_never_over_a_spec(tmp_path, capsys):
    path = write(tmp_path, "good.pde", GOOD)
    assert main(["compile", path, "-o", str(tmp_path / "solver.py")]) == 0
    assert "RESIDUALS" in (tmp_path / "solver.py").read_text()
    for target in (path, str(tmp_path / "other.pde")):
        assert main(["compile", path, "-o", target]) == 2
        assert "would overwrite a spec with Python" in capsys.readouterr().err
    assert open(path).read() == GOOD and not (tmp_path / "other.pde").exists()
    assert main(["compile", path, "-o", str(tmp_path / ("q" * 300 + ".py"))]) == 2  # was exit 3 (OSError)
    assert "cannot write" in capsys.readouterr().err
    assert main(["compile", path, "-o", str(tmp_path / "new" / "folder" / "solver.py")]) == 0  # made, as for predict
    assert "RESIDUALS" in (tmp_path / "new" / "folder" / "solver.py").read_text()
    assert main(["compile", path, "-o", os.path.join(path, "sub", "solver.py")]) == 2
    assert f"{path} is a file, not a folder" in capsys.readouterr().err


def test_data_never_writes_over_a_spec(tmp_path, capsys):
    """data -o naming the spec (or any .pde) would replace it with an archive: a usage error, as for compile."""
    path = write(tmp_path, "good.pde", GOOD)
    for target in (path, str(tmp_path / "other.pde")):
        assert main(["data", path, "--n", "1", "-q", "-o", target]) == 2
        assert "would overwrite a spec with data" in capsys.readouterr().err
    assert open(path).read() == GOOD and not (tmp_path / "other.pde").exists()


def test_data_names_a_file_in_the_way_of_its_output_before_solving(tmp_path, capsys, monkeypatch):
    """-o under a file cannot be written: said before the samples are solved (1000 of them take minutes), not after."""
    import pdedsl.reference.dataset as dataset

    def solved(*args, **kwargs):
        raise AssertionError("the samples were solved before the output was found unwritable")

    monkeypatch.setattr(dataset, "generate", solved)
    path = write(tmp_path, "good.pde", GOOD)
    assert main(["data", path, "--n", "1", "-q", "-o", os.path.join(path, "sub", "data.npz")]) == 2
    assert f"cannot write {os.path.join(path, 'sub', 'data.npz')}: {path} is a file, not a folder" \
        in capsys.readouterr().err


def test_an_output_the_file_system_refuses_is_exit_1_and_data_says_so_before_generating(tmp_path, capsys,
                                                                                       monkeypatch):
    """compile and data answered a folder no one may write in (/sys) as a usage error (exit 2), where predict and
    plot, and the README, say exit 1; and data generated every sample first (minutes, for many) and then lost
    them."""
    import pdedsl.reference.dataset

    def never(*_args, **_kwargs):
        raise AssertionError("samples generated for an output that cannot be written")

    monkeypatch.setattr(pdedsl.reference.dataset, "generate", never)
    path = write(tmp_path, "good.pde", GOOD)
    for argv in (["compile", path, "-o", "/sys/pdedsl-test/solver.py"],
                 ["data", path, "--n", "1", "-q", "-o", "/sys/pdedsl-test/d.npz"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"pdedsl: error: cannot write {argv[-1]}: " in err and "bug" not in err


def test_predict_never_writes_over_a_spec_its_points_or_its_run_and_says_so_as_a_usage_error(tmp_path, capsys):
    """compile -o x.pde and data -o x.pde are usage errors (exit 2); predict -o x.pde was exit 1. Every -o
    that would overwrite something it must not (a spec, the points file, a file of the run) is now exit 2,
    refused before the run is read (an empty folder does here)."""
    run = tmp_path / "run"
    run.mkdir()
    spec = write(tmp_path, "good.pde", GOOD)
    import numpy as np

    points = tmp_path / "pts.npz"
    np.savez(points, x=np.array([0.5]))
    for output, said in [(spec, "would overwrite a spec with predictions"),
                         (str(tmp_path / "other.pde"), "would overwrite a spec with predictions"),
                         (str(points), "would overwrite the points file"),
                         (str(run / "checkpoint.pt"), "would overwrite checkpoint.pt")]:
        assert main(["predict", str(run), "--points", str(points), "-o", output]) == 2, output
        assert said in capsys.readouterr().err
    assert open(spec).read() == GOOD and not (tmp_path / "other.pde").exists()


def test_predict_and_plot_given_a_file_for_the_run_say_so(tmp_path, capsys):
    """'good.pde is not a pdedsl run folder (no config.json or spec.pde)' (exit 1) read as a damaged run; a file
    given for the folder is a usage error naming it, as train --resume and infer --model say."""
    spec = write(tmp_path, "good.pde", GOOD)
    for argv in (["plot", spec], ["predict", spec, "--points", spec, "-o", str(tmp_path / "o.npz")]):
        assert main(argv) == 2
        assert f"pdedsl: error: {spec}: a file, not a run folder" in capsys.readouterr().err


def test_a_spec_behind_a_loop_of_links_is_named_as_such(tmp_path, capsys):
    """os.path.exists is False for a link that leads to itself: it was reported as 'no such file'."""
    loop = tmp_path / "loop.pde"
    loop.symlink_to(loop)
    assert main(["check", str(loop)]) == 2
    assert f"pdedsl: error: {loop}: Too many levels of symbolic links" in capsys.readouterr().err


def test_emit_stages(tmp_path, capsys):
    path = write(tmp_path, "good.pde", GOOD)
    assert main(["emit", "--stage", "ast", path]) == 0
    assert "Block kind=equation target=O @4:1\n    (-laplace(u)) = 1 @5:5" in capsys.readouterr().out
    assert main(["emit", "--stage", "ir", path]) == 0
    assert "equation equation_1 in O:\n    -laplace(u) = 1\n" in capsys.readouterr().out


HOSTILE = {
    "binary": bytes(range(256)) * 4,
    "nul": b"problem p\x00\nfield u\n",
    "latin1": "problem p\nconst c = 1 # caf\xe9\n".encode("latin-1"),
    "parens_3000": ("const c = " + "(" * 3000 + "1" + ")" * 3000 + "\n").encode(),
    "open_parens_3000": ("const c = " + "(" * 3000 + "\n").encode(),
    "unary_3000": ("const c = " + "-" * 3000 + "1\n").encode(),
    "expression_1mb": ("const c = " + "+".join(["1"] * 500_000) + "\n").encode(),
    "unicode_names": "problem π\ndomain Ω = box(x: [0, 1])\nfield ψ\nconst ν = 0.1\nequation in Ω:\n    -ν*d(ψ, x, 2) = 1\n".encode(),
    "emoji": "field 🙂\n".encode(),
    "crlf": GOOD.replace("\n", "\r\n").encode(),
    "lone_cr": GOOD.replace("\n", "\r").encode(),
    "tabs": GOOD.replace("    ", "\t").encode(),
    "form_feed_before_a_statement": GOOD.replace("\nequation", "\n\fequation").encode(),
    "bom": b"\xef\xbb\xbf" + GOOD.encode(),
    "empty": b"",
    "only_comment": b"# nothing here",
    "deep_dedent": b"equation in O:\n        u = 0\n    v = 0\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_gets_clean_answer(tmp_path, capsys, monkeypatch, name):
    monkeypatch.delenv("PDEDSL_DEBUG", raising=False)
    path = write(tmp_path, f"{name}.pde", HOSTILE[name])
    status = main(["check", path])
    err = capsys.readouterr().err
    assert status in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err
    if status == 1:
        assert f"{path}:" in err and ": error: " in err


def test_module_entry_point_runs(tmp_path):
    path = write(tmp_path, "bad.pde", b"\x00\x01 garbage")
    result = subprocess.run([sys.executable, "-m", "pdedsl", "check", path], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PDEDSL_DEBUG": ""})
    assert result.returncode == 1
    assert f"{path}:1:1: error: unexpected character '\\x00'" in result.stderr


def test_internal_errors_say_they_are_bugs(tmp_path, capsys, monkeypatch):
    import pdedsl.api

    def explode(*_):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(pdedsl.api.compiler, "check", explode)
    assert main(["show", write(tmp_path, "good.pde", GOOD)]) == 3
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: boom" in err and "bug in pdedsl" in err and "Traceback" not in err


@pytest.mark.parametrize("error, code", [(PermissionError(13, "Permission denied", "run/result.json"), 1),
                                         (OSError(28, "No space left on device", "run/checkpoint.pt"), 1),
                                         (FileNotFoundError(2, "No such file or directory", "x"), 3)])
def test_a_file_system_refusal_is_an_error_not_a_bug(tmp_path, capsys, monkeypatch, error, code):
    """A read-only file or a full disk met anywhere is exit 1 naming the file; another OSError is still a bug."""
    import pdedsl.api

    def refuse(*_):
        raise error

    monkeypatch.setattr(pdedsl.api.compiler, "check", refuse)
    assert main(["show", write(tmp_path, "good.pde", GOOD)]) == code
    err = capsys.readouterr().err
    if code == 1:
        assert f"pdedsl: error: {error.filename}: {error.strerror}" in err and "bug" not in err, err
    else:
        assert "internal error" in err


def test_check_goes_on_past_a_bug_in_one_spec(tmp_path, capsys, monkeypatch):
    import pdedsl.api

    check = pdedsl.api.compiler.check

    def explode_on_one(source, *rest):
        if source.name.endswith("boom.pde"):
            raise ZeroDivisionError("boom")
        return check(source, *rest)

    monkeypatch.delenv("PDEDSL_DEBUG", raising=False)
    monkeypatch.setattr(pdedsl.api.compiler, "check", explode_on_one)
    paths = [write(tmp_path, "good.pde", GOOD), write(tmp_path, "boom.pde", GOOD), write(tmp_path, "bad.pde", "fiel u\n")]
    assert main(["check", *paths]) == 3
    out, err = capsys.readouterr()
    assert f"{paths[0]}: ok" in out
    assert f"{paths[1]}: pdedsl: internal error: ZeroDivisionError: boom" in err
    assert f"{paths[2]}:1:1: error" in err  # checked after the bug


@pytest.mark.parametrize("error", [MemoryError("Unable to allocate 1.49 GiB"),
                                   RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory: 2048")])
def test_running_out_of_memory_is_explained_not_called_a_bug(tmp_path, capsys, monkeypatch, error):
    import pdedsl.api

    def exhaust(*_):
        raise error

    monkeypatch.delenv("PDEDSL_DEBUG", raising=False)
    monkeypatch.setattr(pdedsl.api.compiler, "check", exhaust)
    assert main(["show", write(tmp_path, "good.pde", GOOD)]) == 1
    err = capsys.readouterr().err
    assert "error: out of memory" in err and "fewer points" in err and "bug" not in err



FAR_TOO_MANY = str(2 ** 62)  # fits in 64 bits, but no size computed from it does


@pytest.mark.parametrize("argv", [["train", "{spec}", "--points", FAR_TOO_MANY, "--instance", "0", "--out", "{run}"],
                                  ["train", "{spec}", "--width", FAR_TOO_MANY, "--instance", "0", "--out", "{run}"],
                                  ["data", "{spec}", "--grid", FAR_TOO_MANY, "-o", "{run}.npz"]])
def test_a_size_that_overflows_torch_or_numpy_is_out_of_memory_not_a_bug(tmp_path, capsys, monkeypatch, argv):
    """Was an internal error: torch's 'Overflow when unpacking long long' or 'Storage size calculation
    overflowed', numpy's 'array is too big'; these are requests for more memory than there is."""
    monkeypatch.delenv("PDEDSL_DEBUG", raising=False)
    spec = write(tmp_path, "good.pde", GOOD.replace("field u", "field u\nparam a ~ uniform(1, 2)").replace("= 1\n", "= a\n", 1))
    argv = [a.format(spec=spec, run=tmp_path / "run") for a in argv]
    assert main([*argv, "--steps", "1", "--lbfgs-steps", "0", "-q"] if argv[0] == "train" else [*argv, "-q"]) == 1
    err = capsys.readouterr().err
    assert "error: out of memory" in err and "ask for less at once" in err and "bug" not in err


@pytest.mark.parametrize("command", ["train", "infer"])
@pytest.mark.parametrize("threads", [str(2 ** 31), "100000"])
def test_more_threads_than_any_machine_has_cores_is_a_usage_error(tmp_path, capsys, command, threads):
    """2^31 overflowed torch's C int; 100000 passed every check, and OpenMP, failing to start that many threads,
    ended the process with 'libgomp: Thread creation failed' and no pdedsl message."""
    spec = write(tmp_path, "good.pde", GOOD)
    assert main([command, spec, "--threads", threads, "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    assert f"argument --threads: at most 1024 threads (got {threads})" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_coding_batch_for_another_backend_is_a_usage_error(tmp_path, capsys):
    spec = write(tmp_path, "good.pde", GOOD)
    code = main(["train", spec, "--steps", "1", "--out", str(tmp_path / "run"), "--coding-batch", "100"])
    err = capsys.readouterr().err
    assert code == 2 and "the pinn backend has none" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # refused before a run folder is made


@pytest.mark.parametrize("option", [["--encoder", "pca"], ["--latent", "4"], ["--modes", "3"]])
def test_an_option_of_another_backend_is_a_clear_error(tmp_path, capsys, option):
    spec = write(tmp_path, "good.pde", GOOD)
    code = main(["train", spec, "--steps", "1", "--out", str(tmp_path / "run"), *option])
    err = capsys.readouterr().err
    assert code != 0 and "internal error" not in err
    assert f"the pinn backend has no option(s) {option[0][2:]} (its options: width, depth" in err


def test_messages_say_what_is_wrong():
    """A keyword before '(' gets no did-you-mean of a function; a negative order is named as an order; a
    repeated periodic statement is pointed out."""
    head = "problem p\ndomain Omega = box(x: [0, 1], y: [0, 1])\nfield u\n"
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(head + "equation in (Omega):\n    u = 1\n")
    assert raised.value.diagnostics[0].hint is None
    with pytest.raises(pdedsl.SpecError, match="derivative order must be a whole number from 1 to 20, not -1"):
        pdedsl.load(head + "equation in Omega:\n    d(u, x, -1) = 1\n")
    problem = pdedsl.load(head + "equation in Omega:\n    u = 1\nperiodic u in x\nperiodic u in x\n")
    assert [w.message for w in problem.warnings] == ["'u' is already periodic in 'x' (line 6)"]


def test_a_form_feed_is_blank_space():
    problem = pdedsl.load("problem p\n\f\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    u = 1\n\f\n"
                          "boundary on boundary(O):\n\f    u = 0\n")
    assert len(problem.boundary_conditions) == 1


@pytest.mark.parametrize("lines, warning", [
    ("domain O = box(x: [0, 1], y: [0, 1]) & box(x: [2, 3], y: [0, 1])",
     "domain 'O' holds no point: as combined, its shapes leave nothing"),
    ("domain O = disk(center: (0, 0), radius: 1) - box(x: [-2, 2], y: [-2, 2])",
     "domain 'O' holds no point: as combined, its shapes leave nothing"),
    ("domain O = box(x: [0, 1], y: [0, 1])\nregion r = boundary(O) where x == 5",
     "region 'r' holds no point: x == 5, but domain 'O' spans x in [0, 1], y in [0, 1]"),
    ("domain O = box(x: [0, 1], y: [0, 1])\nregion r = O where y > 0.5 and x < -1",
     "region 'r' holds no point: x < -1, but domain 'O' spans x in [0, 1], y in [0, 1]"),
    # two bounds that each hold somewhere but not together (no warning before)
    ("domain O = box(x: [0, 1], y: [0, 1])\nregion r = boundary(O) where x == 0 and x == 1",
     "region 'r' holds no point: x == 0 and x == 1 cannot both hold"),
    ("domain O = box(x: [0, 1], y: [0, 1])\nregion r = O where x < 0.2 and y > 0.5 and x > 0.8",
     "region 'r' holds no point: x > 0.8 and x < 0.2 cannot both hold"),
])
def test_an_empty_domain_or_region_is_pointed_out(lines, warning):
    problem = pdedsl.load(f"problem p\n{lines}\nfield u\nequation in O:\n    u = 1\n")
    assert [w.message for w in problem.warnings] == [warning]


def test_a_region_at_the_edge_of_its_domain_is_not_empty():
    problem = pdedsl.load("problem p\ndomain O = box(x: [0, 1], y: [0, 1]) + disk(center: (2, 0), radius: 0.5)\n"
                          "field u\nregion r = boundary(O) where x == 2.5 or y == 1\n"
                          "region s = O where x >= 2.5 and y <= 1\nequation in O:\n    u = 1\n")
    assert problem.warnings == ()


def test_a_polygon_may_repeat_a_vertex_or_close_its_ring():
    for vertices in ("(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)", "(0, 0), (1, 0), (1, 0), (1, 1), (0, 1)"):
        pdedsl.load(f"problem p\ndomain P = polygon({vertices})\nfield u\nequation in P:\n    u = 1\n")


def test_carets_line_up_under_wide_characters(tmp_path, capsys):
    """A terminal shows 温 and 度 two columns wide: the caret under 'foo' moves right by one for each."""
    path = write(tmp_path, "wide.pde", "problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n"
                 "    -d(u, x, 2) = 温度 + 1 + foo\n")
    assert main(["check", path]) == 1
    lines = capsys.readouterr().err.splitlines()
    at = next(i for i, line in enumerate(lines) if "unknown name 'foo'" in line)
    source, caret = lines[at + 1], lines[at + 2]
    assert caret.index("^") == source.index("foo") + 2 and caret.count("^") == 3
    assert caret[caret.index("^") - 8:].startswith(" " * 8)  # no tab or stray character before it


def test_the_cap_on_syntax_errors_says_it_stopped(tmp_path, capsys):
    many = write(tmp_path, "many.pde", "problem p\n" + "fiel u\n" * 30)
    assert main(["check", many]) == 1
    err = capsys.readouterr().err
    assert err.count("error: ") == 20 and "checking stopped after 20 syntax errors" in err
    twenty = write(tmp_path, "twenty.pde", "problem p\n" + "fiel u\n" * 20)  # all found: nothing said
    assert main(["check", twenty]) == 1
    assert "checking stopped" not in capsys.readouterr().err


@pytest.mark.parametrize("text", [GOOD, GOOD.replace("boundary on boundary(O)", "region left = boundary(O) where x == 0"
                                                   "\nboundary on left")])  # (a bare boundary: checked on a box)
def test_check_and_load_import_neither_torch_nor_the_training_loop(tmp_path, text):
    """torch and its compiler take seconds to import; checking a spec needs neither."""
    import subprocess
    import sys

    path = write(tmp_path, "good.pde", text)
    program = ("import sys\nfrom pdedsl.cli import main\nimport pdedsl\npdedsl.load(sys.argv[1])\n"
               "assert main(['check', '-q', sys.argv[1]]) == 0\n"
               "print(sorted(m for m in ('torch', 'pdedsl.training.run', 'pdedsl.codegen') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", program, path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_fields_that_cancel_only_once_written_out_are_located_errors(tmp_path, capsys):
    """Check sees relations as written; lowering writes operators out: d(u, x, y) = d(u, y, x) and one component
    of (u, v) = (u, v) hold for any field, and used to reach training as a residual of 0 (exit 3 there)."""
    text = ("problem c\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u, v\nequation in O:\n    (u, v) = (u, 2*v)\n"
            "    d(u, x, y) = d(u, y, x)\n    -laplace(v) = 1\n")
    path = write(tmp_path, "c.pde", text)
    assert main(["compile", path, "-o", str(tmp_path / "c.py")]) == 1
    err = capsys.readouterr().err
    assert "c.pde:5:5: error: the fields cancel out of equation 'equation_1[0]' once its operators" in err
    assert "c.pde:6:5: error: the fields cancel out of equation 'equation_2'" in err
    assert "equation_1[1]" not in err and not (tmp_path / "c.py").exists()
    assert main(["check", path]) == 1  # check lowers too: found before anything is compiled
    assert "c.pde:6:5: error: the fields cancel out of equation 'equation_2'" in capsys.readouterr().err


def test_relations_that_fold_to_no_real_number_once_written_out_are_located_errors(tmp_path, capsys):
    """1/(x - x) is zoo and sqrt(x - x - 1) is I once SymPy evaluates them: check passed both, and training met
    NaN residuals, or reported a relative error of nan after every step had been taken."""
    text = ("problem p\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    -d(u, x, 2) = 1/(x - x)\n"
            "boundary on boundary(O):\n    u = 0\nexact u = x + sqrt(x - x - 1)\n")
    path = write(tmp_path, "p.pde", text)
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert ("p.pde:5:5: error: equation 'equation_1' cannot be evaluated once its operators are written out: its "
            "exact value is infinite or undefined") in err
    assert ("p.pde:8:1: error: exact solution 'u' cannot be evaluated once its operators are written out: its value "
            "is not real") in err


def test_numbers_that_overflow_only_once_differentiated_are_located_errors(tmp_path, capsys):
    """Check sees 1e200; d(exp(1e200*u), x, 2) holds 1e400, which the generated module printed as 'inf', a name
    it does not define (a NameError in training). Exact solutions are checked too."""
    text = ("problem o\ndomain O = interval(x: [0, 1])\nfield u\nequation in O:\n    d(exp(1e200*u), x, 2) = 1\n"
            "    1e200*d(1e200*u^2, x, 2) = 1\nexact u = d(sin(1e200*x), x, 2)\n")
    path = write(tmp_path, "o.pde", text)
    assert main(["compile", path, "-o", str(tmp_path / "o.py")]) == 1
    err = capsys.readouterr().err
    assert "o.pde:5:5: error: a number in equation 'equation_1' overflows a float64 once its derivatives are " \
           "taken (about 1.00e+400)" in err
    assert "o.pde:6:5: error: a number in equation 'equation_2'" in err
    assert "o.pde:7:1: error: a number in exact solution 'exact u'" in err
    assert not (tmp_path / "o.py").exists()
    assert main(["emit", "--stage", "lowered", path]) == 1 and "3 errors" in capsys.readouterr().err


def test_a_form_feed_at_the_start_of_a_line_is_a_page_break_not_an_indent(tmp_path, capsys):
    path = write(tmp_path, "paged.pde", GOOD.replace("\nequation", "\n\fequation"))
    assert main(["check", path]) == 0, capsys.readouterr().err


def test_a_test_count_beside_a_test_data_file_is_warned_about(tmp_path, capsys):
    assert main(["train", "specs/darcy_smooth.pde", "--backend", "deeponet", "--test", "5", "--test-data",
                 str(tmp_path / "missing.npz"), "--out", str(tmp_path / "run")]) == 2
    assert "--test 5 is ignored: the held-out members are all those of --test-data" in capsys.readouterr().err


@pytest.mark.parametrize("rank, printed", [("0", True), ("1", False)])
def test_a_user_error_is_printed_by_one_process_of_a_multi_process_run(monkeypatch, capsys, rank, printed):
    """Every process reads the same spec and options: rank 0 alone says what is wrong with them."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", rank)
    assert main(["train", "specs/poisson.pde", "--instance", "-1"]) == 2
    assert ("--instance needs a seed" in capsys.readouterr().err) is printed


@pytest.mark.parametrize("spec", ["specs/heat_random_start.pde", "specs/darcy_two_phase_inverse.pde"])
def test_a_spec_naming_an_inferred_inputs_truth_trains_and_plots_as_a_pinn(tmp_path, capsys, spec):
    """'reference s' holds s over space alone: training's data checks and the plot take it as such."""
    folder = str(tmp_path / "run")
    assert main(["train", spec, "--instance", "1", "--steps", "2", "--lbfgs-steps", "0", "--points", "20", "-q",
                 "--out", folder]) == 0, capsys.readouterr().err
    assert main(["plot", folder]) == 0


def test_a_weight_given_twice_is_warned_about(capsys):
    from pdedsl.cli import _weights

    assert _weights(["equation_1=2", "data_u=1", "equation_1=5"]) == {"equation_1": 5.0, "data_u": 1.0}
    assert "--weight equation_1 is given twice (2, then 5); the last one counts" in capsys.readouterr().err
    assert _weights(["equation_1=2", "equation_1=2"]) == {"equation_1": 2.0}  # the same value twice: no fuss
    assert capsys.readouterr().err == ""


def test_a_folder_in_place_of_a_runs_checkpoint_is_named(tmp_path, capsys):
    """checkpoint.pt as a folder read as "no checkpoint yet": a resume trained afresh and failed at its first
    save (internal error), predict and plot said "no checkpoint"."""
    run = tmp_path / "run"
    (run / "checkpoint.pt").mkdir(parents=True)
    for name in ("config.json", "spec.pde"):
        (run / name).write_text("{}" if name.endswith(".json") else GOOD)
    points = tmp_path / "points.npz"
    import numpy as np

    np.savez(points, x=np.array([0.5]), y=np.array([0.5]))
    for command in (["train", "--resume", str(run)], ["predict", str(run), "--points", str(points), "-o",
                                                      str(tmp_path / "out.npz")],
                    ["plot", str(run)]):
        assert main(command) == 1
        assert f"{run / 'checkpoint.pt'} is not a file" in capsys.readouterr().err


def test_a_file_given_for_a_run_folder_is_called_a_file(tmp_path, capsys):
    """--resume, --init and --model given a file say so (infer --model and --init said "no such run folder")."""
    spec = write(tmp_path, "good.pde", GOOD)
    for argv, takes in ((["train", "--resume", spec], "--resume takes its folder"),
                        (["train", spec, "--init", spec], "--init takes a trained run's folder"),
                        (["infer", spec, "--model", spec], "--model takes the folder of a dgno run")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"{spec}: a file, not a run folder (" in err and takes in err


def test_a_process_count_beyond_the_machine_is_a_usage_error(tmp_path, capsys, monkeypatch):
    """--nproc 100000 started torchrun with that many processes: counts past 4 per CPU core are refused before
    anything is launched."""
    import subprocess as launched

    def no_launch(*args, **kwargs):
        raise AssertionError("torchrun was started")
    monkeypatch.setattr(launched, "Popen", no_launch)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--nproc", "100000", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "--nproc 100000" in err and "at most 8 processes (4 per CPU core, 2 cores)" in err
    assert main(["train", "--resume", str(tmp_path), "--nproc", "9"]) == 2
    assert "at most 8 processes" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_more_processes_than_gpus_is_a_usage_error(tmp_path, capsys, monkeypatch):
    """Each process takes the GPU of its local rank: a third process on two GPUs would fail once started."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--device", "cuda", "--nproc", "3", "--out", str(tmp_path / "run")]) == 2
    assert "--nproc 3: --device cuda runs one process per GPU, and this machine has 2" in capsys.readouterr().err


@pytest.mark.parametrize("backend, activation", [("pinn", "bogus"), ("pinn", "tanh_sin"), ("deeponet", "bogus"),
                                                 ("fno", "silu_id"), ("dgno", "nope")])
def test_an_unknown_activation_is_a_usage_error_listing_the_backends_own(tmp_path, capsys, backend, activation):
    """Was exit 1 (the backend's error when the network was built), where --backend bogus is exit 2."""
    from pdedsl.backends.deeponet import OPERATOR_ACTIVATIONS
    from pdedsl.backends.pinn import ACTIVATIONS

    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--backend", backend, "--activation", activation,
                 "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    names = ACTIVATIONS if backend in ("pinn", "fno") else OPERATOR_ACTIVATIONS
    assert f"unknown activation '{activation}' for the {backend} backend (available: " \
           f"{', '.join(sorted(names))})" in err
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("option, value", [("--steps", "\u0661\u0660"), ("--width", "\uff18"), ("--seed", "\u0967"),
                                           ("--lr", "\u0661e-3"), ("--decay", "\u0660.\u0661")])
def test_numbers_are_written_with_ascii_digits(tmp_path, capsys, option, value):
    """int() and float() read Arabic-Indic, Devanagari and full-width digits: '--steps ١٠' trained 10 steps."""
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, option, value, "--out", str(tmp_path / "run")]) == 2
    assert f"argument {option}: '{value}' is not written with the ASCII digits 0-9" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_form_option_numbers_are_written_with_ascii_digits(tmp_path, capsys):
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--form", "weak(particles: \u0663\u0660)", "--out", str(tmp_path / "run")]) == 2
    assert "form option 'particles' needs a whole number written with the ASCII digits 0-9, got '\u0663\u0660'" \
        in capsys.readouterr().err


@pytest.mark.parametrize("backend, option, value", [("pinn", "--encoder", "cnn"), ("pinn", "--modes", "4"),
                                                    ("deeponet", "--latent", "8")])
def test_an_option_the_backend_lacks_is_a_usage_error(tmp_path, capsys, backend, option, value):
    """Was exit 1 (the backend's error when the network was built), where --coding-batch on a pinn is exit 2."""
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--backend", backend, option, value, "--out", str(tmp_path / "run")]) == 2
    assert f"the {backend} backend has no option(s) {option[2:]} (its options: " in capsys.readouterr().err



@pytest.mark.parametrize("form, message, carets", [
    ("__import__('os')", "unknown form '__import__' (the forms: strong, weak, mixed; options ride along, as in "
                         "weak(particles: 300, radius: 0.05))", "^^^^^^^^^^"),
    ("weak(particles: 30, 'os')", "unknown form option ''os'' (known: particles, radius", "                    ^^^^"),
    ("weak(particles: many)", "form option 'particles' needs a whole number, got 'many'", "                ^^^^"),
    ("weak(particles: 3, particles: 4)", "form option 'particles' is given twice", "                   ^^^^^^^^^^^^"),
    ("weak particles", "cannot read the form 'weak particles': expected a form, as in weak(particles: 300, radius: "
                       "0.05)", None)])
def test_a_form_that_cannot_be_read_is_located_in_the_option_text(tmp_path, capsys, form, message, carets):
    """--form "__import__('os')" was reported as an unknown option ''os'' of a form that does not exist."""
    spec = write(tmp_path, "good.pde", GOOD)
    assert main(["train", spec, "--form", form, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"pdedsl: error: --form: {message}" in err
    if carets is not None:
        assert f"\n    {form}\n    {carets}\n" in err + "\n"
    assert not (tmp_path / "run").exists()


def test_a_form_is_never_evaluated(tmp_path, capsys):
    spec = write(tmp_path, "good.pde", GOOD)
    made = tmp_path / "made"
    assert main(["train", spec, "--form", f"__import__('os').system('touch {made}')", "--out",
                 str(tmp_path / "run")]) == 2
    assert "unknown form '__import__'" in capsys.readouterr().err and not made.exists()


@pytest.mark.parametrize("backend", ["pinn", "fno"])
def test_a_spec_with_no_field_is_refused_by_train_where_check_warns(tmp_path, capsys, backend):
    """train said 'the problem has no fields to learn' (the pinn; fno: that the spec is no family), naming no
    place, where check warns at the problem statement."""
    spec = write(tmp_path, "nofield.pde", "problem p\ndomain O = interval(x: [0, 1])\nconst k = 2\n")
    assert main(["check", spec]) == 0
    warned = capsys.readouterr().err
    assert f"{spec}:1:1: warning: the spec declares no field: there is nothing to solve for\n    problem p\n" \
           "    ^^^^^^^^^\nhint: declare the unknowns" in warned
    assert main(["train", spec, "--backend", backend, "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert f"pdedsl: error: {spec}:1:1: the spec declares no field: there is nothing to solve for\n    problem p\n" \
           "    ^^^^^^^^^\nhint: declare the unknowns" in err
    assert "warning" not in err and err.count("declares no field") == 1
    assert not (tmp_path / "run").exists()


def test_latex_brackets_a_negated_sum_as_every_other_bracket(tmp_path, capsys):
    """SymPy wrote -(k - 1) as '- (k - 1)', plain brackets beside the \\left( \\right) of every other place."""
    path = write(tmp_path, "neg.pde", "problem p\ndomain O = interval(x: [0, 1])\nparam k = 3\nfield u\n"
                 "equation in O:\n    -(d(u, x, 2) + u) = -(k - 1)\nboundary on boundary(O):\n    u = 0\n")
    assert main(["show", "--latex", path]) == 0
    latex = capsys.readouterr().out
    assert r"- \left(\frac{\partial^{2} u}{\partial x^{2}} + u\right) = - \left(k - 1\right)" in latex
    assert "- (" not in latex


@pytest.mark.parametrize("mode", ["supervised", "hybrid"])
def test_a_mode_that_learns_from_labels_without_data_is_a_usage_error(tmp_path, capsys, mode):
    """Was exit 1 when the training pool was drawn: the options do not fit together, as --coding-batch on a
    pinn (exit 2) does not."""
    spec = write(tmp_path, "family.pde", GOOD.replace("field u", "field u\nparam k ~ uniform(1, 2)")
                 .replace("= 1\n", "= k\n", 1))
    assert main(["train", spec, "--backend", "deeponet", "--mode", mode, "--out", str(tmp_path / "run")]) == 2
    assert f"--mode {mode} learns from labelled members: pass --data FILE (written by 'pdedsl data')" \
        in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_pdedsl_warnings_read_as_its_own_not_as_python_source(tmp_path, capsys, monkeypatch):
    """A prior's sampler warning reached the user as Python prints warnings: 'pdedsl/runtime/instances.py:187:
    RuntimeWarning: ...' and the source line that raised it."""
    import numpy as np

    import pdedsl.api
    from pdedsl.runtime.priors import MaternField

    check = pdedsl.api.compiler.check

    def sample_then_check(*args, **kwargs):
        MaternField(2.0, 2.5, dense_limit=0, max_padded_size=64).sample([np.linspace(0, 1, 20)], 1, seed=0)
        return check(*args, **kwargs)

    monkeypatch.setattr(pdedsl.api.compiler, "check", sample_then_check)
    assert main(["show", write(tmp_path, "good.pde", GOOD)]) == 0
    err = capsys.readouterr().err
    assert "pdedsl: warning: gaussian_field: circulant embedding" in err
    assert "RuntimeWarning" not in err and ".py:" not in err


def test_a_run_folder_missing_one_file_or_its_first_checkpoint_says_which_and_what_to_do(tmp_path, capsys):
    """'no config.json or spec.pde' left the user to find which; 'has no checkpoint yet' did not say that the run
    was stopped before its first one, nor how to go on."""
    spec = write(tmp_path, "good.pde", GOOD)
    run = tmp_path / "run"
    assert main(["train", spec, "--steps", "2", "--lbfgs-steps", "0", "--points", "8", "--width", "4", "-q",
                 "--out", str(run)]) == 0
    (run / "checkpoint.pt").unlink()
    capsys.readouterr()
    for argv in (["plot", str(run)], ["predict", str(run), "--points", spec, "-o", str(tmp_path / "o.npz")]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"{run} has no checkpoint yet" in err and f"pdedsl train --resume {run}" in err
    (run / "spec.pde").unlink()
    for argv in (["plot", str(run)], ["train", "--resume", str(run)]):
        assert main(argv) == 1
        assert f"{run} is not a pdedsl run folder (no spec.pde)" in capsys.readouterr().err
