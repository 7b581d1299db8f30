"""The DGNO backend: likelihoods chosen from the priors, the ELBO terms, jets, training and round trips."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pdedsl import api
from pdedsl.backends import BackendError, create
from pdedsl.backends.dgno import DGNO, LatentInputs, likelihood_of
from pdedsl.runtime.family import draw_pool
from pdedsl.runtime.jets import JetTable
from pdedsl.training import TrainConfig, resume, train
from pdedsl.training.run import Run

SPECS = "specs"

SMALL = dict(latent=6, width=12, depth=2, encoder_width=16, encoder_depth=1)


def model_for(spec, members=6, grid=9, seed=0, **options):
    problem = api.load(f"{SPECS}/{spec}")
    pool = draw_pool(problem, members, grid, seed)
    model = create("dgno", problem, layout=pool.layout, **{**SMALL, **options}).double()
    model.set_normalisation(pool.operator_inputs())
    return problem, pool, model


def test_likelihoods_follow_the_priors():
    assert likelihood_of(api.load(f"{SPECS}/darcy_two_phase.pde"), "a") == "bernoulli"
    assert likelihood_of(api.load(f"{SPECS}/darcy_inverse.pde"), "a") == "lognormal"
    assert likelihood_of(api.load(f"{SPECS}/darcy_smooth.pde"), "a") == "gaussian"  # a formula of random params


def test_two_phase_values_come_from_the_samples():
    _, pool, model = model_for("darcy_two_phase.pde")
    assert float(model.phase_low[0]) == 5.0 and float(model.phase_high[0]) == 10.0
    z = torch.randn(3, 6, dtype=torch.float64)
    points = {"x": torch.rand(20, dtype=torch.float64), "y": torch.rand(20, dtype=torch.float64)}
    decoded = model.decode_inputs(points, torch.tanh(z))["a"]
    assert decoded.shape == (3, 20)
    assert bool((decoded > 5).all() and (decoded < 10).all())  # the Bernoulli mean lies between the phases


def test_reconstruction_and_kl_are_the_stated_densities():
    _, pool, model = model_for("darcy_inverse.pde")  # log-normal a
    inputs = pool.operator_inputs()
    model.eval()
    model.begin_batch(inputs)
    terms = model.latent_terms()
    _, _, _, beta, mean, log_std = model._batch
    count = model.value_count()
    # KL(N(mean, std^2) || N(0, 1)) summed over the latent axis, mean over members, per reconstructed value
    q = torch.distributions.Normal(mean, log_std.exp())
    expected_kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1).mean() / count
    assert torch.allclose(terms["kl"], expected_kl)
    # log-normal: a Gaussian on the standardised log a, with the learned noise
    decoder = model.input_decoders["a"]
    x = model._scaled({"x": model.sensor_points[:, 0], "y": model.sensor_points[:, 1]})
    raw = decoder._product_values(x, decoder._branch_of(beta))[0]
    target = (inputs.grid[:, 0].reshape(len(beta), -1).log() - model.log_mean[0]) / model.log_scale[0]
    density = torch.distributions.Normal(raw, model.log_noise[0].exp())
    assert torch.allclose(terms["reconstruct_a"], -density.log_prob(target).mean())


def test_bernoulli_reconstruction_is_binary_cross_entropy():
    _, pool, model = model_for("darcy_two_phase.pde")
    inputs = pool.operator_inputs()
    model.eval()
    model.begin_batch(inputs)
    terms = model.latent_terms()
    beta = model._batch[1]
    decoder = model.input_decoders["a"]
    x = model._scaled({"x": model.sensor_points[:, 0], "y": model.sensor_points[:, 1]})
    logits = decoder._product_values(x, decoder._branch_of(beta))[0]
    upper = (inputs.grid[:, 0].reshape(len(beta), -1) > 7.5).double()
    expected = -torch.distributions.Bernoulli(logits=logits).log_prob(upper).mean()
    assert torch.allclose(terms["reconstruct_a"], expected)


def test_extra_coded_members_are_reconstructed_but_not_given_to_the_physics():
    _, pool, model = model_for("darcy_two_phase.pde", members=6)
    inputs = pool.operator_inputs()
    model.eval()
    batch, extra = inputs.select(slice(0, 2)), inputs.select(slice(2, 6))
    model.begin_batch(batch, extra)
    joined = model.latent_terms()
    assert model.beta(batch).shape == (2, 6)  # the physics' members: the batch alone
    assert torch.allclose(model.beta(batch), torch.tanh(model.encode(batch)[0]))
    model.begin_batch(inputs)  # the same six members as one batch: the same terms
    alone = model.latent_terms()
    for name in ("reconstruct_a", "kl"):
        assert torch.allclose(joined[name], alone[name])
    model.begin_batch(batch)
    assert not torch.allclose(model.latent_terms()["kl"], joined["kl"])  # two members are not six


def test_scalar_params_are_reconstructed_too():
    _, pool, model = model_for("darcy_smooth.pde")
    model.begin_batch(pool.operator_inputs())
    terms = model.latent_terms()
    assert {"reconstruct_a", "reconstruct_b1", "reconstruct_b2", "kl"} <= set(terms)
    assert all(torch.isfinite(v) for v in terms.values())
    assert set(model.decode_params(torch.zeros(2, 6, dtype=torch.float64))) == {"b1", "b2"}


def test_generated_params_stay_inside_their_priors_support():
    """b1, b2 ~ uniform(0, 2 pi): the linear head could say -3 or 9; the model generates and draws inside."""
    _, _, model = model_for("darcy_smooth.pde")
    assert model.param_supports == [(0.0, 2 * math.pi)] * 2
    with torch.no_grad():
        model.scalar_head.weight.mul_(100.0)  # far outside the prior somewhere
    beta = torch.tanh(torch.randn(64, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        decoded = model.decode_params(beta)
    drawn = model.draw_inputs(decoded, torch.Generator().manual_seed(1))
    for values in (*decoded.values(), *drawn.values()):
        assert float(values.min()) >= 0.0 and float(values.max()) <= 2 * math.pi
        assert float(values.min()) == 0.0 and float(values.max()) == 2 * math.pi  # the ends were reached
    normal = api.load("specs/advection_diffusion.pde")
    from pdedsl.runtime.instances import param_support
    assert param_support(normal, "theta") == (-math.inf, math.inf)


def test_elbo_decreases_on_a_tiny_problem():
    torch.manual_seed(0)
    _, pool, model = model_for("darcy_two_phase.pde", members=8)
    inputs = pool.operator_inputs()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for _ in range(150):
        model.begin_batch(inputs)
        loss = sum(model.latent_terms().values())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        history.append(float(loss.detach()))
    assert all(math.isfinite(v) for v in history)
    assert np.mean(history[-10:]) < 0.8 * np.mean(history[:10])


def test_training_draws_latents_and_evaluation_uses_the_mean():
    torch.manual_seed(1)
    _, pool, model = model_for("darcy_two_phase.pde")
    inputs = pool.operator_inputs()
    points = {"x": torch.rand(1, 15, dtype=torch.float64), "y": torch.rand(1, 15, dtype=torch.float64)}
    model.train()
    model.begin_batch(inputs)
    drawn = model.beta(inputs)
    assert torch.equal(drawn, model.beta(inputs))  # one draw per step, shared by every term
    mean = torch.tanh(model.encode(inputs)[0])
    assert not torch.allclose(drawn, mean)
    model.eval()
    other = inputs.select(slice(0, 6))  # a different batch object: encoded afresh, at the mean
    assert torch.allclose(model.beta(other), mean)
    assert torch.allclose(model(points, other)["u"], model(points, LatentInputs(model.encode(inputs)[0]))["u"])


def test_the_pca_encoder_whitens_the_pools_principal_components():
    _, pool, model = model_for("darcy_smooth.pde", members=40, encoder="pca")  # 81 pixels + 2 params, 6 latents
    inputs = pool.operator_inputs()
    mean, log_std = model.encode(inputs)
    assert mean.shape == log_std.shape == (40, 6)
    assert torch.allclose(mean.mean(0), torch.zeros(6, dtype=mean.dtype), atol=1e-10)  # centred,
    assert torch.allclose(mean.std(0), torch.ones(6, dtype=mean.dtype), atol=1e-10)  # unit variance,
    assert torch.allclose(torch.corrcoef(mean.T), torch.eye(6, dtype=mean.dtype), atol=1e-8)  # uncorrelated
    basis = model.pca_basis
    assert torch.allclose(basis.T @ basis, torch.eye(6, dtype=basis.dtype), atol=1e-10)
    flat = model.standardise(inputs).flat()
    centred = flat - flat.mean(0)
    kept = (centred @ basis).square().sum() / centred.square().sum()  # the leading directions: no other
    other = torch.linalg.qr(torch.randn(basis.shape[0], 6, dtype=basis.dtype, generator=torch.Generator().manual_seed(0)))[0]
    assert float(kept) > float((centred @ other).square().sum() / centred.square().sum())
    assert float(kept) == pytest.approx(float(torch.linalg.svdvals(centred)[:6].square().sum()
                                              / centred.square().sum()), rel=1e-10)
    assert torch.equal(log_std[0], log_std[1])  # sigma is learned per latent, not per member
    assert model.pca_log_std.requires_grad and not any(n.startswith("encoder") for n, _ in model.named_parameters())


def test_the_pca_encoder_leaves_latents_past_the_pools_rank_empty():
    _, pool, model = model_for("darcy_two_phase.pde", members=4, encoder="pca")  # rank 3 after centring
    mean, _ = model.encode(pool.operator_inputs())
    assert torch.count_nonzero(model.pca_basis.abs().sum(0)) == 3
    assert torch.all(mean[:, 3:] == 0) and torch.all(torch.isfinite(mean))
    with pytest.raises(BackendError, match="unknown dgno encoder 'conv'"):
        model_for("darcy_two_phase.pde", encoder="conv")


def test_the_cnn_encoder_halves_the_grid_and_reads_the_params_too():
    _, pool, model = model_for("darcy_two_phase.pde", grid=29, encoder="cnn")  # 29 -> 15 -> 8 -> 4
    assert [layer.stride for layer in model.conv_encoder.layers] == [(2, 2)] * 3
    assert model.conv_encoder.out_features == 64 * 4 * 4
    inputs = pool.operator_inputs()
    mean, log_std = model.encode(inputs)
    assert mean.shape == log_std.shape == (6, 6) and torch.all(torch.isfinite(mean))
    assert not torch.allclose(mean[0], mean[1])  # members differ, so do their codes
    shifted = inputs.grid.clone()
    shifted[0, 0] = torch.roll(shifted[0, 0], 3, dims=0)  # the same pixels elsewhere: a different code
    assert not torch.allclose(model.encode(type(inputs)(shifted, inputs.scalars))[0][0], mean[0])
    # the random params join the convolutions' flat features (a here is a formula of b1 and b2: a channel too)
    _, params_pool, with_params = model_for("darcy_smooth.pde", encoder="cnn")
    assert with_params.encoder.layers[0].in_features == with_params.conv_encoder.out_features + 2
    changed = params_pool.operator_inputs()
    before = with_params.encode(changed)[0]
    changed.scalars[:, 0] += 1.0
    assert not torch.allclose(with_params.encode(changed)[0], before)


def test_the_cnn_encoder_needs_grid_inputs(tmp_path):
    spec = tmp_path / "params_only.pde"
    spec.write_text("problem params_only\ndomain Omega = box(x: [0, 1], y: [0, 1])\nfield u\n"
                    "param k ~ uniform(1, 2)\nequation in Omega:\n    -div(k * grad(u)) = 1\n"
                    "boundary on boundary(Omega):\n    u = 0\n")
    problem = api.load(spec)
    pool = draw_pool(problem, 3, 9, 0)
    assert pool.layout.channels == () and pool.layout.scalars == ("k",)
    with pytest.raises(BackendError, match="only random params"):
        create("dgno", problem, layout=pool.layout, **SMALL, encoder="cnn")
    create("dgno", problem, layout=pool.layout, **SMALL, encoder="mlp")  # the MLP reads the params alone


PAPER_INPUT_DECODER = dict(input_width=10, input_activation="silu_sin", input_branch_activation="silu_id")


@pytest.mark.parametrize("spec", ["darcy_two_phase.pde", "darcy_inverse.pde", "darcy_smooth.pde"])
@pytest.mark.parametrize("options", [{}, PAPER_INPUT_DECODER], ids=["shared", "own_input_decoder"])
def test_jets_match_autograd_for_fields_and_generated_inputs(spec, options):
    _, _, model = model_for(spec, **options)
    width = options.get("input_width", SMALL["width"])
    assert model.input_decoders["a"].trunk.layers[0].out_features == width
    assert model.decoder.trunk.layers[0].out_features == SMALL["width"]
    z = LatentInputs(torch.randn(2, 6, dtype=torch.float64))
    x = torch.rand(7, dtype=torch.float64)
    y = torch.rand(7, dtype=torch.float64)
    table = JetTable.cached([(0, 0), (0, 1), (1, 1)], 2)  # u_xx, u_xy, u_yy and what leads to them
    jets = model.jets({"x": x, "y": y}, table, ["x", "y"], z)
    leaves = {"x": x.clone().requires_grad_(True), "y": y.clone().requires_grad_(True)}  # shared points
    values = model(leaves, z)
    for name in ("u", "a"):
        assert torch.allclose(jets[name].value, values[name])
        for member in range(2):  # each point's value depends on that point only, so sums give pointwise slopes
            gx, gy = torch.autograd.grad(values[name][member].sum(), [leaves["x"], leaves["y"]], create_graph=True)
            gxx, gxy = torch.autograd.grad(gx.sum(), [leaves["x"], leaves["y"]], retain_graph=True)
            gyy = torch.autograd.grad(gy.sum(), leaves["y"], retain_graph=True)[0]
            assert torch.allclose(jets[name].derivative((0, 0))[member], gxx, atol=1e-9)
            assert torch.allclose(jets[name].derivative((0, 1))[member], gxy, atol=1e-9)
            assert torch.allclose(jets[name].derivative((1, 1))[member], gyy, atol=1e-9)


def test_unknown_options_and_lognormal_checks_are_reported():
    problem = api.load(f"{SPECS}/darcy_inverse.pde")
    pool = draw_pool(problem, 3, 9, 0)
    with pytest.raises(BackendError, match="no option"):
        create("dgno", problem, layout=pool.layout, modes=3)
    model = create("dgno", problem, layout=pool.layout, **SMALL)
    negative = pool.operator_inputs()
    negative.grid[0, 0, 0, 0] = -1.0
    with pytest.raises(BackendError, match="log-normal"):
        model.set_normalisation(negative)


def test_a_coding_batch_trains_the_autoencoder_on_more_members_and_resumes(tmp_path, monkeypatch,
                                                                          train_killed_at):
    """Members redrawn every 3 steps, killed at step 6 with a checkpoint at 4 (mid-draw): the run resumes to
    the same parameters (the extra members come from the draw's seed, as the batch does)."""
    options = dict(backend="dgno", samples=12, batch_size=3, coding_batch=7, grid=9, test_samples=0, form="weak",
                   weak_particles=6, backend_options=SMALL, precision="float64", checkpoint_every=4, steps=8,
                   resample_every=3)
    coded = []
    begin = DGNO.begin_batch
    monkeypatch.setattr(DGNO, "begin_batch", lambda self, inputs, extra=None: (
        coded.append((len(inputs), None if extra is None else len(extra))), begin(self, inputs, extra))[1])
    spec = f"{SPECS}/darcy_two_phase.pde"
    whole = train(spec, TrainConfig(**options), tmp_path / "whole", progress=False)
    assert whole["steps"] == 8 and set(coded) == {(3, 4)}  # 3 for the physics, 4 more for the autoencoder
    train_killed_at(spec, TrainConfig(**options), tmp_path / "killed", 6)
    resume(tmp_path / "killed", progress=False)
    one = torch.load(tmp_path / "whole" / "checkpoint.pt", weights_only=True)["model"]
    two = torch.load(tmp_path / "killed" / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.allclose(one[k], two[k], rtol=1e-9, atol=1e-12) for k in one)


@pytest.mark.parametrize("backend, coding, message", [("deeponet", 8, "the deeponet backend has none"),
                                                       ("dgno", 2, "at least the batch")])
def test_a_coding_batch_is_checked(backend, coding, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(backend=backend, batch_size=4, coding_batch=coding).check_counts()


@pytest.mark.parametrize("encoder", ["mlp", "cnn", "pca"])
def test_training_saves_and_reloads_the_same_model(tmp_path, encoder):
    config = TrainConfig(backend="dgno", steps=6, samples=12, batch_size=4, grid=9, test_samples=3, form="weak",
                         weak_particles=10, backend_options=dict(SMALL, encoder=encoder), log_every=2)
    result = train(f"{SPECS}/darcy_two_phase.pde", config, tmp_path / "run", progress=False)
    terms = [line for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert '"reconstruct_a"' in terms[-1] and '"kl"' in terms[-1] and '"darcy"' in terms[-1]
    assert math.isfinite(result["rel_l2"]["u"])
    first, second = Run.open(tmp_path / "run"), Run.open(tmp_path / "run")
    assert first.test is None  # (the test set is read lazily)
    errors = first.evaluate()
    assert errors["u"] == pytest.approx(result["rel_l2"]["u"], rel=1e-6)
    z = LatentInputs(torch.randn(2, 6))
    points = {"x": torch.rand(1, 5), "y": torch.rand(1, 5)}
    first.model.eval(), second.model.eval()
    assert torch.equal(first.model(points, z)["u"], second.model(points, z)["u"])
    inputs = first.pool.operator_inputs()
    assert torch.equal(first.model.model.encode(inputs)[0], second.model.model.encode(inputs)[0])
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert any("pca_basis" in str(key) for key in _keys(saved)) == (encoder == "pca")  # the basis travels
    from pdedsl.training.operator_views import _generated_inputs
    from pdedsl.training.plot import plot

    generated = _generated_inputs(first, first.pool.head(2))  # the plot's extra column: a as the model makes it
    assert generated.shape == (2, 9, 9) and np.all((generated > 5) & (generated < 10))
    assert plot(tmp_path / "run").stat().st_size > 10_000


def _keys(tree):
    """Every key of a nested checkpoint dictionary."""
    for key, value in tree.items():
        yield key
        if isinstance(value, dict):
            yield from _keys(value)


def test_predictive_draws_follow_the_input_likelihoods():
    _, _, model = model_for("darcy_two_phase.pde")
    generator = torch.Generator().manual_seed(0)
    mean = torch.full((4000, 3), 6.0, dtype=torch.float64)  # P(upper phase) = (6 - 5) / (10 - 5) = 0.2
    drawn = model.draw_inputs({"a": mean, "u": mean}, generator)
    assert set(torch.unique(drawn["a"]).tolist()) == {5.0, 10.0}
    assert float((drawn["a"] == 10.0).double().mean()) == pytest.approx(0.2, abs=0.02)
    assert torch.equal(drawn["u"], mean)  # fields have no likelihood noise
    _, _, lognormal = model_for("darcy_inverse.pde")
    drawn = lognormal.draw_inputs({"a": torch.full((4000, 1), 2.0, dtype=torch.float64)}, generator)["a"]
    spread = float(lognormal.log_scale[0] * lognormal.log_noise[0].detach().exp())
    assert bool((drawn > 0).all())
    assert float(drawn.log().std()) == pytest.approx(spread, rel=0.05)
    assert float(drawn.log().mean()) == pytest.approx(math.log(2.0), abs=0.01)


def test_the_kl_weight_warms_up_over_the_given_fraction_of_the_steps(tmp_path):
    from pdedsl.training.operators import kl_scale

    config = TrainConfig(backend="dgno", steps=100, kl_warmup=0.5)
    assert [kl_scale(config, s) for s in (0, 25, 50, 99)] == [0.0, 0.5, 1.0, 1.0]
    assert kl_scale(TrainConfig(backend="dgno", steps=100, kl_warmup=0.0), 0) == 1.0
    assert TrainConfig(backend="dgno").kl_warmup == 0.5  # the default; older run folders read 0 (from_dict)
    assert TrainConfig.from_dict({"backend": "dgno"}).kl_warmup == 0.0
    with pytest.raises(ValueError, match="kl_warmup"):
        TrainConfig(backend="dgno", kl_warmup=1.5)
    config = TrainConfig(backend="dgno", steps=4, samples=8, batch_size=4, grid=9, test_samples=0, form="weak",
                         weak_particles=6, backend_options=dict(SMALL, input_width=8), log_every=1, kl_warmup=1.0)
    train(f"{SPECS}/darcy_two_phase.pde", config, tmp_path / "run", progress=False)
    logged = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    kl = [entry["terms"]["kl"] for entry in logged if "terms" in entry]
    assert kl[0] == 0.0 and kl[-1] > 0.0
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["kl_warmup"] == 1.0  # and a new run records the input decoders' own options
    assert saved["backend_options"]["input_width"] == 8 and saved["backend_options"]["input_activation"] == "silu_sin"


def test_the_pca_encoder_leaves_out_directions_of_negligible_spread():
    _, pool, model = model_for("darcy_smooth.pde", members=60, latent=40, encoder="pca")  # two params shape a
    kept = int(torch.count_nonzero(model.pca_basis.abs().sum(0)))
    scale = model.pca_scale[:kept]
    assert 2 <= kept < 40 and float(scale[-1] / scale[0]) > 1e-3
    flat = model.standardise(pool.operator_inputs()).flat()
    spread = torch.linalg.svdvals(flat - flat.mean(0))
    assert float(spread[kept] / spread[0]) <= 1e-3  # the next one was negligible


ROD_WITH_RANDOM_START = Path(__file__).parent.parent / "data" / "rod_random_start.pde"


def test_an_input_of_a_time_dependent_problem_is_a_function_of_space():
    """u0(x) has a trunk over x alone: decoding it ignores t, its t-derivative is zero, and the ELBO is finite."""
    problem = api.load(ROD_WITH_RANDOM_START)
    pool = draw_pool(problem, 4, 9, 0)
    model = create("dgno", problem, layout=pool.layout, **SMALL).double()
    model.set_normalisation(pool.operator_inputs())
    assert model.input_decoders["u0"].trunk.layers[0].in_features == 1
    assert model.decoder.trunk.layers[0].in_features == 2
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # away from the initial weights, some of which are zero
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
    z = LatentInputs(torch.randn(2, 6, dtype=torch.float64))
    x = torch.rand(5, dtype=torch.float64)
    early, late = (model({"x": x, "t": torch.full_like(x, t)}, z) for t in (0.0, 0.4))
    assert torch.equal(early["u0"], late["u0"]) and not torch.allclose(early["u"], late["u"])
    assert not torch.allclose(early["u0"][:, :1], early["u0"])  # but it does vary in x
    table = JetTable.cached([(0, 0), (1,)], 2)
    jets = model.jets({"x": x, "t": torch.full_like(x, 0.2)}, table, ["x", "t"], z)
    assert torch.equal(jets["u0"].derivative((1,)), torch.zeros_like(jets["u0"].value))
    assert torch.count_nonzero(jets["u0"].derivative((0, 0))) > 0
    model.train()
    model.begin_batch(pool.operator_inputs().select(slice(0, 2)))
    assert all(torch.isfinite(v) for v in model.latent_terms().values())
