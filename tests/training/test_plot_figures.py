"""What the PINN plot draws, read from matplotlib's objects rather than pixels: tick labels that never collide,
outlines and masks of domains that do not fill their box, signed errors on a diverging scale, snapshots of
1-D + time fields with their truth and observations, labelled axes."""

import numpy as np
import pytest
import torch

from pdedsl.training import Run, TrainConfig, train
from pdedsl.training.plot import SNAPSHOTS, figure_of

TINY = dict(steps=20, lbfgs_steps=0, interior_points=64, boundary_points=16, log_every=5)

RING = """problem ring
domain A = disk(center: (0, 0), radius: 1) - disk(center: (0, 0), radius: 0.5)
field u
equation in A:
    -laplace(u) = 0
boundary on boundary(A):
    u = log(sqrt(x^2 + y^2)) / log(2) + 1
exact u = log(sqrt(x^2 + y^2)) / log(2) + 1
"""

HEAT = """problem rod_heat
domain Rod = interval(x: [0, 1])
time t: [0, 0.5]
field u
equation in Rod:
    dt(u) = 0.1 * d(u, x, 2)
boundary on boundary(Rod):
    u = 0
initial:
    u = sin(pi*x)
exact u = exp(-0.1*pi^2*t) * sin(pi*x)
"""

OBSERVED_HEAT = """problem observed_heat
domain Rod = interval(x: [0, 1])
time t: [0, 0.5]
field u
equation in Rod:
    dt(u) = 0.1 * d(u, x, 2)
boundary on boundary(Rod):
    u = 0
initial:
    u = sin(pi*x)
observe u from "readings.npz" noise 0.01
"""


@pytest.fixture(autouse=True, scope="module")
def _single_threaded_torch():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _figure(root, name, text, files=None):
    folder = root / f"{name}_spec"
    folder.mkdir()
    for file_name, arrays in (files or {}).items():
        np.savez(folder / file_name, **arrays)
    (folder / f"{name}.pde").write_text(text)
    train(folder / f"{name}.pde", TrainConfig(**TINY), root / name, progress=False)
    figure = figure_of(Run.open(root / name), root / name)
    figure.canvas.draw()  # lays the figure out: tick labels get their places
    return figure


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    root = tmp_path_factory.mktemp("figures")
    x, t = np.linspace(0, 1, 11), np.array([0.0, 0.25, 0.5])
    readings = np.exp(-0.1 * np.pi**2 * t)[None, :] * np.sin(np.pi * x)[:, None]
    return {"ring": _figure(root, "ring", RING), "heat": _figure(root, "heat", HEAT),
            "observed": _figure(root, "observed", OBSERVED_HEAT, {"readings.npz": {"x": x, "t": t, "u": readings}})}


def _titled(figure, start):
    found = [ax for ax in figure.axes if ax.get_title().startswith(start)]
    assert found, [ax.get_title() for ax in figure.axes]
    return found[0]


def _image_of(ax):
    from matplotlib.collections import QuadMesh

    return next(c for c in ax.collections if isinstance(c, QuadMesh))


def collisions(figure) -> list:
    """Pairs of texts of one axes (tick labels, axis labels) whose boxes on the canvas overlap."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    found = []
    for ax in figure.axes:
        texts = [t for t in (*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label)
                 if t.get_visible() and t.get_text()]
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
        for i, (a, box) in enumerate(boxes):
            for b, other in boxes[i + 1:]:
                if box.x0 < other.x1 and other.x0 < box.x1 and box.y0 < other.y1 and other.y0 < box.y1:
                    found.append((ax.get_title(), a, b))
    return found


def test_tick_labels_of_a_panel_never_collide(figures):
    """The annulus's x axis from -1 to 1 had nine labels that ran into each other ('-1.00-0.75-0.50')."""
    for figure in figures.values():
        assert not collisions(figure)


def test_a_domain_short_of_its_box_is_masked_outlined_and_true_to_scale(figures):
    ax = _titled(figures["ring"], "u: prediction")
    image = _image_of(ax)
    values = image.get_array()
    side = int(round(np.sqrt(values.size)))
    mask = np.ma.getmaskarray(values).reshape(side, side)
    assert mask[0, 0] and mask[side // 2, side // 2] and not mask[side // 2, side // 20 + 2]  # corner, hole, ring
    contours = [c for c in ax.collections if type(c).__name__ == "QuadContourSet" or hasattr(c, "levels")]
    assert contours and list(contours[0].levels) == [0.0]  # the boundary drawn over the blank pixels
    assert ax.get_aspect() == 1.0 and ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_a_box_gets_no_outline(figures):
    ax = _titled(figures["heat"], "u: prediction")
    assert not [c for c in ax.collections if hasattr(c, "levels")]


def test_the_error_image_is_signed_on_a_diverging_scale_centred_on_zero(figures):
    ax = _titled(figures["ring"], "u: error (prediction - exact)")
    image = _image_of(ax)
    low, high = image.get_clim()
    assert image.get_cmap().name == "RdBu_r" and low == pytest.approx(-high) and high > 0
    assert np.nanmin(image.get_array()) < 0 < np.nanmax(image.get_array())  # a tiny run errs both ways
    assert "rel. L2" in ax.get_title()


def test_a_time_problem_gets_snapshots_with_its_truth(figures):
    figure = figures["heat"]
    ax = _titled(figure, f"u: prediction at {SNAPSHOTS} times")
    lines = ax.get_lines()
    times = [line for line in lines if line.get_label().startswith("t = ")]
    assert [line.get_label() for line in times] == ["t = 0", "t = 0.167", "t = 0.333", "t = 0.5"]
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert len(dashed) == SNAPSHOTS  # the exact solution at each time
    x, values = dashed[-1].get_data()
    assert values == pytest.approx(np.exp(-0.1 * np.pi**2 * 0.5) * np.sin(np.pi * x))
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "u"
    assert len(figure.axes) - sum(a.get_label() == "<colorbar>" for a in figure.axes) == 5  # 3 images, snapshots, loss


def test_snapshots_are_taken_at_the_observation_times_and_show_them(figures):
    ax = _titled(figures["observed"], "u: prediction at 3 times")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines if line.get_label().startswith("t = ")] == \
        ["t = 0", "t = 0.25", "t = 0.5"]  # the readings' times, not 0, 1/6, 1/3, 1/2
    dots = [line for line in lines if line.get_marker() == "o"]
    assert len(dots) == 3 and all(len(line.get_xdata()) == 11 for line in dots)
    assert ax.get_legend().get_texts()[-1].get_text() == "observed"  # after the times


def test_the_loss_panel_is_labelled(figures):
    ax = _titled(figures["heat"], "training loss")
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "loss" and ax.get_yscale() == "log"


def test_a_log_error_axis_is_not_stretched_by_a_point_of_exact_agreement():
    from pdedsl.training.plot import _error_floor

    errors = np.full(1001, 1e-6)
    errors[-1] = 1e-16  # a hard boundary condition: prediction and truth agree to rounding at the end
    assert _error_floor(errors) == pytest.approx(1e-7)
    assert _error_floor(np.geomspace(1e-8, 1e-5, 50)) is None  # an honest dip is kept whole
    assert _error_floor(np.array([np.nan, 0.0])) is None


def _operator_panel_figure(values, names=("x", "y"), **options):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from pdedsl.training.operator_views import _panel

    figure = Figure(figsize=(3.3, 2.9), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    nodes = [np.linspace(0, 1, n) for n in values.shape]
    _panel(figure, ax, dict(zip(names, nodes)), values, "u (predicted)", None, **{"diverging": False, **options})
    return figure, ax, nodes


def test_an_operator_panel_puts_each_value_at_its_node_and_its_labels_apart():
    """imshow spread 17 nodes over 17 equal cells from the first node to the last, half a cell off at the ends;
    the y label sat on the '0.50' tick, and the corner ticks '0.00' ran into each other."""
    values = np.add.outer(np.linspace(0, 1, 17), np.zeros(9))
    values[0, 0] = np.nan  # a node outside the domain, blanked
    figure, ax, nodes = _operator_panel_figure(values)
    image = _image_of(ax)
    corners = image.get_coordinates()  # cell edges: half-way between nodes
    assert corners[0, 1, 0] == pytest.approx((nodes[0][0] + nodes[0][1]) / 2)
    assert ax.get_xlim() == pytest.approx((0, 1)) and ax.get_ylim() == pytest.approx((0, 1))
    assert np.ma.getmaskarray(image.get_array()).reshape(9, 17)[0, 0]
    assert not collisions(figure)
    colorbar = [a for a in figure.axes if a is not ax][0]
    assert max(t.get_fontsize() for t in colorbar.get_yticklabels()) <= 8  # as the axes' ticks, not 10


def test_a_term_that_starts_at_exactly_zero_keeps_the_loss_axis_logarithmic():
    """DGNO's KL term is 0 at its first record (the latents start at the prior): that is no negative term, and
    the symmetric axis it used to switch to gave a linear band around 0 where no curve goes."""
    from matplotlib.figure import Figure

    from pdedsl.training.plot import _draw_losses

    records = [{"step": s, "loss": 50.0 / s, "terms": {"reconstruct_a": 50.0 / s, "kl": 0.0 if s == 1 else 0.1 * s}}
               for s in (1, 2, 3)]
    ax = Figure().add_subplot()
    _draw_losses(ax, records)
    assert ax.get_yscale() == "log"
    kl = next(line for line in ax.get_lines() if line.get_label() == "kl")
    assert np.isnan(kl.get_ydata()[0]) and list(kl.get_ydata()[1:]) == pytest.approx([0.2, 0.3])


def test_the_headline_names_a_form_other_than_the_strong_one(figures):
    from pdedsl import api
    from pdedsl.training.plot import _headline

    problem = api.load(HEAT)
    assert _headline(problem, {"steps": 5}, form="weak") == "rod_heat  |  1-D + time  |  weak form  |  5 steps"
    assert "form" not in _headline(problem, {"steps": 5})
    assert "form" not in figures["heat"]._suptitle.get_text()


def _posterior_folder(folder):
    """An inference folder as 'pdedsl infer --model' writes it, with made-up numbers (no model is needed to draw)."""
    import json

    folder.mkdir()
    (folder / "spec.pde").write_text("problem p\ndomain D = box(x: [0, 1], y: [0, 1])\nfield u\ninput a ~ "
                                     "gaussian_field(length: 0.2)\nequation in D:\n    -div(a * grad(u)) = 1\n"
                                     "boundary on boundary(D):\n    u = 0\n")
    report = {"model": "m", "problem": "darcy_two_phase_inverse", "inferred": ["a"], "axes": ["x", "y"],
              "fields": ["u"], "observations": {"u": {"points": 5}},
              "truth": {"a": {"rel_l2": 0.38, "coverage_95": 1.0}, "u": {"rel_l2": 0.139, "coverage_95": 0.81}}}
    (folder / "inference.json").write_text(json.dumps(report))
    (folder / "posterior.npz").write_bytes(b"")
    x = y = np.linspace(0, 1, 17)
    X, Y = np.meshgrid(x, y, indexing="ij")
    arrays = {"x": x, "y": y}
    for name, values in (("a", 5 + 5 * (X > 0.5)), ("u", X * (1 - X) * Y * (1 - Y))):
        arrays.update({name: values * 1.1, f"{name}_std": 0.1 * values + 1e-3, f"true_{name}": values,
                       f"{name}_low": values * 0.9, f"{name}_high": values * 1.3})
    arrays.update(obs_u=np.linspace(0, 0.06, 5), obs_u_x=np.linspace(0.1, 0.9, 5), obs_u_y=np.full(5, 0.5))
    np.savez(folder / "fields.npz", **arrays)
    return folder


def test_a_posterior_plot_keeps_its_titles_over_their_panels(tmp_path):
    """'rel. L2 3.80e-01, 95% band covers 100%' was wider than its panel and ran into the colour bar."""
    from pdedsl.training.posterior_views import posterior_figure

    figure = posterior_figure(_posterior_folder(tmp_path / "post"))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    panels = [ax for ax in figure.axes if ax.get_title()]
    assert len(panels) == 8  # truth, mean, std, error of a and of u
    for ax in panels:
        title, box = ax.title.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert box.x0 - 2 <= title.x0 and title.x1 <= box.x1 + 2, ax.get_title()
    error = next(ax for ax in panels if ax.get_title().startswith("a: error"))
    assert "3.80e-01" in error.get_title() and "100%" in error.get_title()
    assert not collisions(figure)
    mean = next(ax for ax in panels if ax.get_title().startswith("u: posterior mean"))
    assert mean.get_title() == "u: posterior mean\n5 observations as dots" and len(mean.collections[-1].get_offsets()) == 5


def test_no_loss_term_is_drawn_in_the_total_s_grey():
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure

    from pdedsl.training.plot import _draw_losses

    names = [f"term_{k}" for k in range(12)]
    ax = Figure().add_subplot()
    _draw_losses(ax, [{"step": s, "loss": 12.0 / s, "terms": {n: 1.0 / s for n in names}} for s in (1, 2)])
    colours = {line.get_label(): to_rgb(line.get_color()) for line in ax.get_lines()}
    grey = to_rgb("C7")
    assert all(colours[n] != grey and max(colours[n]) - min(colours[n]) > 0.1 for n in names)
    assert len({colours[n] for n in names[:9]}) == 9


def test_a_curve_panel_of_an_operator_run_reads_like_the_images_beside_it():
    figure, ax, nodes = _operator_panel_figure(np.sin(np.linspace(0, 3, 33)))
    assert max(t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()) <= 8
    assert ax.get_xlim() == pytest.approx((0, 1)) and ax.xaxis.get_gridlines()[0].get_visible()
    assert not collisions(figure)


def test_a_field_is_drawn_only_where_it_has_an_equation(tmp_path):
    """Two fields each solved on one half of the box (conform34's p25): each was drawn over the whole box, the
    half without its equation included, though its error is measured only where it lives."""
    spec = tmp_path / "halves.pde"
    spec.write_text("problem halves\ndomain Omega = box(x: [0, 2], y: [0, 1])\n"
                    "region left = Omega where x < 1\nregion right = Omega where x >= 1\nfield u, p\n"
                    "equation in left:\n    -laplace(u) = 1\nequation in right:\n    -laplace(p) = 1\n"
                    "boundary on boundary(Omega):\n    u = 0\n    p = 0\n")
    train(spec, TrainConfig(**TINY), tmp_path / "run", progress=False)
    figure = figure_of(Run.open(tmp_path / "run"), tmp_path / "run")
    for name in ("u", "p"):
        mask = np.ma.getmaskarray(_image_of(_titled(figure, f"{name}: prediction")).get_array())
        assert 0.4 < mask.mean() < 0.6, (name, mask.mean())  # the other half is blank
