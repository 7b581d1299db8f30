"""Derivatives of data inputs that their interpolation makes zero are warned about at the equation needing them."""

from pathlib import Path

import numpy as np

from pdedsl.cli import main

SPEC = """problem g
domain O = box(x: [0, 1], y: [0, 1])
field u
input k from "{file}"
equation in O:
    {equation}
boundary on boundary(O):
    u = 0
"""


def _files(folder):
    x = np.linspace(0, 1, 11)
    np.savez(folder / "grid.npz", x=x, y=x, k=np.add.outer(x ** 2, x))
    X, Y = np.meshgrid(x, x)
    np.savez(folder / "points.npz", x=X.ravel(), y=Y.ravel(), k=(X ** 2 + Y).ravel())
    np.savez(folder / "line.npz", x=x, y=0.5 * x, k=x ** 2)  # scattered points on one line: nearest value


def _check(tmp_path, capsys, file, equation):
    _files(tmp_path)
    spec = tmp_path / "g.pde"
    spec.write_text(SPEC.format(file=file, equation=equation))
    assert main(["check", "-q", str(spec)]) == 0
    return capsys.readouterr().err


def test_second_derivatives_of_grid_data_are_said_to_be_zero_at_the_equation(tmp_path, capsys):
    err = _check(tmp_path, capsys, "grid.npz", "-laplace(u) = laplace(k) + d(k, x)")
    assert "g.pde:6:5: warning: d(k, x, 2) and d(k, y, 2) of data input 'k' are zero everywhere" in err
    assert "interpolated linearly" in err and "d(k, x) " not in err  # first derivatives of a grid are fine


def test_any_derivative_of_scattered_data_on_one_line_is_said_to_be_zero(tmp_path, capsys):
    err = _check(tmp_path, capsys, "line.npz", "-div(k*grad(u)) = 1")
    assert "d(k, x) and d(k, y) of data input 'k' are zero everywhere" in err and "nearest" in err


def test_scattered_data_that_span_the_plane_lose_only_second_derivatives(tmp_path, capsys):
    """Scattered points in 2-D are fitted on a fine grid and read multilinearly there, as grid data are."""
    assert "warning" not in _check(tmp_path, capsys, "points.npz", "-div(k*grad(u)) = 1")
    err = _check(tmp_path, capsys, "points.npz", "-laplace(u) = laplace(k)")
    assert "d(k, x, 2) and d(k, y, 2) of data input 'k' are zero everywhere" in err and "fitted on" in err


def test_first_derivatives_of_grid_data_and_values_of_scattered_data_are_not_warned_about(tmp_path, capsys):
    assert "warning" not in _check(tmp_path, capsys, "grid.npz", "-div(k*grad(u)) = 1")
    assert "warning" not in _check(tmp_path, capsys, "points.npz", "-k*laplace(u) = 1")


def test_training_in_weak_form_warns_about_what_the_weak_form_reads(tmp_path, capsys):
    """-div(k*grad(u)) in weak form reads k alone, so scattered k on one line (nearest value) is fine there; laplace(k) on the right reads
    only d(k, x) and d(k, y) once integrated by parts, so grid data are fine too."""
    _files(tmp_path)
    spec = tmp_path / "g.pde"

    def warnings(file, equation, form):
        spec.write_text(SPEC.format(file=file, equation=equation))
        main(["train", str(spec), "--form", form, "--steps", "1", "--lbfgs-steps", "0", "--threads", "1", "-q",
              "--out", str(tmp_path / "run"), "--points", "16"])
        return [line for line in capsys.readouterr().err.splitlines() if "zero everywhere" in line]

    assert warnings("line.npz", "-div(k*grad(u)) = 1", "strong")
    assert not warnings("line.npz", "-div(k*grad(u)) = 1", "weak")
    assert warnings("grid.npz", "-laplace(u) = laplace(k)", "strong")
    assert not warnings("grid.npz", "-laplace(u) = laplace(k)", "weak")
    assert warnings("grid.npz", "-laplace(u) = k*d(k, x, 2)", "weak")  # not in divergence form: kept strong


def test_second_derivatives_of_a_smooth_random_input_are_said_to_be_zero(tmp_path, capsys):
    """Each draw is taken on a grid and interpolated multilinearly (one instance, or operator members); a
    threshold input is piecewise constant by design and is left to the weak and mixed forms' notes."""
    spec = tmp_path / "r.pde"
    for prior, warned in (("exp(gaussian_field(length: 0.3))", True),
                          ("threshold(gaussian_field(length: 0.3), below: 1, above: 2)", False)):
        spec.write_text(f"problem r\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\ninput a ~ {prior}\n"
                        "equation in O:\n    -div(a*grad(u)) + d(a, x, 2)*u = 1\n"
                        "boundary on boundary(O):\n    u = 0\n")
        assert main(["check", "-q", str(spec)]) == 0
        err = capsys.readouterr().err
        assert ("r.pde:6:5: warning: d(a, x, 2) of random input 'a' is zero everywhere" in err) == warned, err
        assert "d(a, x) " not in err  # first derivatives of the interpolant are its slopes


def test_an_equation_on_a_line_keeps_its_strong_reading_in_weak_form(tmp_path, capsys):
    """No ball fits on 'O where x == 0.5', so the weak form trains that equation strong (laplace(k) read as 0)."""
    _files(tmp_path)
    spec = tmp_path / "g.pde"
    spec.write_text(SPEC.format(file="grid.npz", equation="-laplace(u) = 1").replace(
        "boundary on", "region C = O where x == 0.5\nequation in C:\n    u = laplace(k)\nboundary on"))
    main(["train", str(spec), "--form", "weak", "--steps", "1", "--lbfgs-steps", "0", "--threads", "1", "-q",
          "--out", str(tmp_path / "run"), "--points", "16"])
    err = capsys.readouterr().err
    assert "g.pde:9:5: warning: d(k, x, 2) and d(k, y, 2) of data input 'k' are zero everywhere" in err, err


def test_a_two_phase_input_read_strong_is_said_to_lose_the_interface_flux_at_train_only(tmp_path, capsys):
    """Constant on each phase by design; check does not know the form, the weak and mixed forms read 'a' alone."""
    spec = str(Path(__file__).resolve().parents[2] / "specs" / "darcy_two_phase.pde")
    assert main(["check", "-q", spec]) == 0
    assert "two-phase" not in capsys.readouterr().err
    for form, warned in (("strong", True), ("mixed", False)):
        assert main(["train", spec, "--instance", "0", "--form", form, "--steps", "1", "--lbfgs-steps", "0", "-q",
                     "--out", str(tmp_path / form)]) == 0
        err = capsys.readouterr().err
        assert ("d(a, x) and d(a, y) of two-phase input 'a' are zero everywhere" in err) == warned, err
        assert ("loses the flux across the phases' interface: train --form mixed" in err) == warned


def test_a_two_phase_input_thresholded_from_another_input_is_warned_about_alike():
    """'input a ~ threshold(g, ...)' over 'input g ~ gaussian_field(...)' is written into the residuals as a
    step of g, whose derivatives are zero: read strong it loses the interface flux as a threshold prior does."""
    import pdedsl
    from pdedsl import compiler
    from pdedsl.passes.data_derivatives import zero_data_derivatives

    problem = pdedsl.load("problem p\ndomain O = box(x: [0, 1], y: [0, 1])\nfield u\n"
                          "input g ~ gaussian_field(length: 0.3)\ninput a ~ threshold(g, below: 1, above: 3)\n"
                          "equation in O:\n    -div(a*grad(u)) = 1\nboundary on boundary(O):\n    u = 0\n")
    lowered = compiler.lower(problem)
    (warning,) = zero_data_derivatives(problem, lowered, "strong")
    assert warning.span.line == 7
    assert warning.message.startswith("d(a, x) and d(a, y) of two-phase input 'a' are zero everywhere")
    assert "train --form mixed" in warning.hint
    assert zero_data_derivatives(problem, lowered, "mixed") == [] and zero_data_derivatives(problem, lowered) == []


def test_a_supervised_operator_run_reads_no_physics_and_is_not_warned_about_its_derivatives(tmp_path, capsys):
    """README's `pdedsl train specs/darcy_two_phase.pde --backend fno --data train.npz` learns from labels
    alone: no residual reads d(a, x), so pointing it to --form mixed was noise; hybrid reads the physics."""
    spec = str(Path(__file__).resolve().parents[2] / "specs" / "darcy_two_phase.pde")
    data = str(tmp_path / "train.npz")
    assert main(["data", spec, "--n", "4", "--grid", "9", "--seed", "0", "-q", "-o", data]) == 0
    small = {"fno": ["--modes", "2", "--width", "4"], "multionet": ["--width", "4", "--depth", "1"]}
    for backend, mode, warned in (("fno", "supervised", False), ("multionet", "hybrid", True)):
        assert main(["train", spec, "--backend", backend, "--data", data, "--test-data", data, "--mode", mode,
                     *small[backend], "--steps", "1", "--batch", "2", "-q", "--out", str(tmp_path / mode)]) == 0
        err = capsys.readouterr().err
        assert ("of two-phase input 'a' are zero everywhere" in err) == warned, err
