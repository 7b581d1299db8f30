"""DGNO: a deep generative neural operator (Zang and Koutsourelakis, J. Comput. Phys. 2025).

Latent variables ``beta`` in (-1, 1)^m generate both a member's inputs and
its fields. Three parts:

* an **encoder** q(z | a) = N(mu(a), diag sigma(a)^2): an MLP on the
  standardised inputs at the sensor nodes (every channel, then the random
  params), with ``beta = tanh(z)`` and the prior z ~ N(0, I); with
  ``encoder="cnn"``, convolutions over the sensor grid before the MLP
  (``conv_encoder.py``); or, with
  ``encoder="pca"``, mu(a) the whitened leading principal components of the
  training pool (fixed at set-up) and one learned sigma per latent;
* **input decoders** p(a | beta), one MultiONet per varying input, with the
  likelihood chosen from the input's prior in the spec: Bernoulli for a
  ``threshold(...)`` field (the two values are the phases; the decoder's
  output is the logit of the upper one), log-normal for ``exp(...)``
  (Gaussian on log a), Gaussian otherwise; random params get a Gaussian
  linear head;
* a **field decoder** u(beta)(x): a MultiONet whose branch reads beta (it
  carries the mixed form's fluxes too).

The training loss (``latent_terms`` here, the physics in
``training/operators.py``) is the negative ELBO per reconstructed value:
``[-E_q log p(a | beta) + KL(q || N(0, I)) + lambda/2 sum_j r_j^2] / N``,
with ``N`` values per member (pixels of every input and the params) and the
weak residuals ``r_j`` as virtual observables of zero. The physics term is the
mean squared residual times its weight ``w``, so ``lambda = 2 w N / J`` for
``J`` particles. A deterministic encoder is the limit sigma -> 0.

Evaluated on a member's inputs, the fields come from ``beta = tanh(mu(a))``.
Given :class:`LatentInputs` (the inverse problem) the model returns the
decoded inputs beside the fields, in physical units, so the residuals read
the generated input instead of a sampled one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional

import numpy as np
import sympy
import torch

from ..ir import nodes
from ..ir.problem import Problem
from ..runtime import elementwise
from ..runtime.instances import param_support
from ..runtime.jets import Jet
from ..runtime.mixtures import DrawMixture
from .base import BackendError, glorot_uniform, register
from .conv_encoder import ConvEncoder
from .deeponet import OPERATOR_ACTIVATIONS, ProductNetworks, ScaledCoordinates, _Stack
from .operator import OperatorBackend, OperatorInputs, SensorLayout

LIKELIHOODS = ("bernoulli", "lognormal", "gaussian")
ENCODERS = ("mlp", "cnn", "pca")  # q(z | a): a learned MLP or CNN, or the pool's whitened principal components
PCA_CUTOFF = 1e-3  # principal directions with a smaller spread (relative to the leading one) are left out
LOG_STD_RANGE = (-8.0, 2.0)  # the encoder's log sigma is clamped here (sigma from 3e-4 to 7)
INITIAL_LOG_STD = -4.0  # the encoder's starting log sigma (a noisy start hides the inputs from the decoders)
INITIAL_NOISE = 0.1  # starting std of the Gaussian likelihoods (standardised units); learned
#: Options a new run gets unless given (run folders written before them keep the shared decoder width and
#: activation): input decoders as the DGNO authors build them, wider than the field decoder, with a periodic
#: trunk activation; on two-phase Darcy they cut the reconstruction loss (cross-entropy per pixel) from 0.55
#: to 0.49 after 2000 steps (README: DGNO).
NEW_RUN_OPTIONS = {"input_width": 256, "input_activation": "silu_sin", "input_branch_activation": "silu_id"}


@dataclass
class LatentInputs:
    """Members given by their latent variables ``z`` (``[B, m]``; beta = tanh(z)) instead of their inputs."""

    z: torch.Tensor

    def __len__(self) -> int:
        return int(self.z.shape[0])

    def select(self, index) -> "LatentInputs":
        return LatentInputs(self.z[index])

    def to(self, device=None, dtype=None) -> "LatentInputs":
        return LatentInputs(self.z.to(device, dtype))


def likelihood_of(problem: Problem, name: str) -> str:
    """The input likelihood its prior calls for: bernoulli (two-phase), lognormal (exp(...)), or gaussian."""
    item = next((i for i in problem.inputs if i.name == name), None)
    if item is None or item.kind != "prior":
        return "gaussian"
    if item.prior.atoms(nodes.Threshold):
        return "bernoulli"
    if isinstance(item.prior, sympy.exp):
        return "lognormal"
    return "gaussian"


class _Decoder(ProductNetworks, torch.nn.Module):
    """A MultiONet whose branch reads the latent variables."""

    def __init__(self, coordinates: int, latent: int, outputs: int, width: int, depth: int, activation: str,
                 generator: torch.Generator, branch_activation: str | None = None):
        super().__init__()
        self._build_products(coordinates, latent, outputs, width, depth, activation, generator, branch_activation)


@register("dgno")
class DGNO(ScaledCoordinates, OperatorBackend):
    """Encoder to latent beta, MultiONet decoders from beta to every input and field."""

    supports_jets = True
    skips_derivatives = True  # jets() takes ``differentiated``
    activations = tuple(OPERATOR_ACTIVATIONS)  # of the decoders (input_activation, input_branch_activation too)
    new_run_options = NEW_RUN_OPTIONS

    def __init__(self, problem: Problem, layout: SensorLayout, latent: int = 128, width: int = 100, depth: int = 4,
                 activation: str = "tanh", encoder_width: int = 256, encoder_depth: int = 2,
                 input_width: int | None = None, input_activation: str | None = None,
                 input_branch_activation: str | None = None, encoder: str = "mlp", seed: int = 0,
                 auxiliary: tuple = (), **unknown):
        if unknown:
            raise BackendError(f"the dgno backend has no option(s) {', '.join(sorted(unknown))} (it takes "
                               "latent, width, depth, activation, encoder, encoder_width, encoder_depth, "
                               "input_width, input_activation, input_branch_activation, seed)")
        if encoder not in ENCODERS:
            raise BackendError(f"unknown dgno encoder '{encoder}' (expected one of: {', '.join(ENCODERS)})")
        input_width = input_width or width
        input_activation = input_activation or activation
        input_branch_activation = input_branch_activation or input_activation
        super().__init__(problem, layout, auxiliary=auxiliary, latent=latent, width=width, depth=depth,
                         activation=activation, encoder_width=encoder_width, encoder_depth=encoder_depth,
                         input_width=input_width, input_activation=input_activation,
                         input_branch_activation=input_branch_activation, encoder=encoder, seed=seed)
        if latent < 1 or encoder_width < 1 or encoder_depth < 1:
            raise BackendError("the dgno backend needs latent, encoder_width and encoder_depth of at least 1")
        self.latent_size = latent
        self.encoder_kind = encoder
        self.likelihoods = {name: likelihood_of(problem, name) for name in layout.channels}
        #: Where each random param's prior puts it: generated values and draws are kept inside.
        self.param_supports = [param_support(problem, name) for name in layout.scalars]
        with torch.device("cpu"):
            generator = torch.Generator().manual_seed(seed)
            self._register_scaling(problem)
            if encoder in ("mlp", "cnn"):
                flat = layout.sensor_count
                if encoder == "cnn":  # convolutions first; their features and the params feed the MLP
                    self.conv_encoder = ConvEncoder(len(layout.channels), layout.shape, generator)
                    flat = self.conv_encoder.out_features + len(layout.scalars)
                self.encoder = _Stack(flat, encoder_width, encoder_depth - 1, generator)
                self.encoder_head = glorot_uniform(torch.nn.Linear(encoder_width, 2 * latent), generator)
                with torch.no_grad():  # start nearly deterministic: sigma = e^-4; the KL term widens q as it pays
                    self.encoder_head.bias[latent:] = INITIAL_LOG_STD
            else:  # filled by set_normalisation from the training pool
                self.register_buffer("pca_mean", torch.zeros(layout.sensor_count))
                self.register_buffer("pca_basis", torch.zeros(layout.sensor_count, latent))
                self.register_buffer("pca_scale", torch.ones(latent))
                self.pca_log_std = torch.nn.Parameter(torch.full((latent,), INITIAL_LOG_STD))
            d = len(self.coordinate_names)
            # An input field lives on the sensor grid's axes: in a time-dependent problem, space only.
            axes = layout.axis_names
            self.input_axes = None if axes == self.coordinate_names else axes
            self.decoder = _Decoder(d, latent, len(self.output_names), width, depth, activation, generator)
            self.activation = self.decoder.activation  # the encoder's too
            self.input_decoders = torch.nn.ModuleDict(
                {name: _Decoder(len(axes), latent, 1, input_width, depth, input_activation, generator, input_branch_activation)
                 for name in layout.channels})
            self.scalar_head = (glorot_uniform(torch.nn.Linear(latent, len(layout.scalars)), generator)
                                if layout.scalars else None)
            channels = max(len(layout.channels), 1)
            self.log_noise = torch.nn.Parameter(torch.full((channels + len(layout.scalars),),
                                                           math.log(INITIAL_NOISE)))
            self.register_buffer("log_mean", torch.zeros(channels))  # lognormal inputs: statistics of log a
            self.register_buffer("log_scale", torch.ones(channels))
            self.register_buffer("phase_low", torch.zeros(channels))  # bernoulli inputs: the two values
            self.register_buffer("phase_high", torch.ones(channels))
            mesh = np.meshgrid(*layout.nodes().values(), indexing="ij")
            self.register_buffer("sensor_points", torch.tensor(np.stack([m.reshape(-1) for m in mesh], -1)))
        self._batch = None  # (inputs, their beta; coded members, their beta, mean, log_std) of this step
        self._trunk_cache = None  # trunk features by point set while the decoders are frozen (freeze_trunks)

    # ---- normalisation ----
    def set_normalisation(self, inputs: OperatorInputs) -> None:
        super().set_normalisation(inputs)
        if inputs.grid is None:
            return
        with torch.no_grad():
            for c, name in enumerate(self.layout.channels):
                values = inputs.grid[:, c].double()
                kind = self.likelihoods[name]
                if kind == "lognormal":
                    if not bool((values > 0).all()):
                        raise BackendError(f"input '{name}' has a log-normal prior but non-positive samples")
                    self.log_mean[c], self.log_scale[c] = values.log().mean(), values.log().std().clamp_min(1e-8)
                elif kind == "bernoulli":
                    self.phase_low[c], self.phase_high[c] = values.min(), values.max()
                    if float(self.phase_high[c] - self.phase_low[c]) <= 0:
                        raise BackendError(f"input '{name}' is two-phase but every sample has one value")
        if self.encoder_kind == "pca":
            self._fit_principal_components(self.standardise(inputs).flat())

    def _fit_principal_components(self, flat: torch.Tensor) -> None:
        """The PCA encoder: the pool's leading principal directions, scaled so each code has unit variance.

        A linear code generalises where a learned MLP encoder overfits: on two-phase
        Darcy (the paper's prior) the input autoencoder alone reconstructs held-out
        inputs to 0.112 against the MLP's 0.150 (benchmarks/dgno_encoder.py), though
        the full model's u is worse with it (README: Benchmarks, DGNO, Encoders).
        Whitened codes match the prior N(0, I) in their first two moments, whatever the
        KL weight (the inverse problem's ``--prior standard`` leans on that).
        Directions past the pool's rank, or whose spread is under PCA_CUTOFF of the
        leading one's, stay zero: whitened, they would carry float32 rounding and
        let a slightly different input (out of distribution) move a latent by many
        standard deviations.
        """
        data = flat.double()
        mean = data.mean(dim=0)
        _, singular, right = torch.linalg.svd(data - mean, full_matrices=False)
        count = min(self.latent_size, len(singular), max(len(data) - 1, 0))
        scale = singular[:count] / math.sqrt(max(len(data) - 1, 1))
        count = int((scale > PCA_CUTOFF * max(float(scale[0]), 1e-300)).sum()) if count else 0
        with torch.no_grad():
            self.pca_mean.copy_(mean)
            self.pca_basis.zero_()
            self.pca_basis[:, :count] = right[:count].T
            self.pca_scale.fill_(1.0)
            self.pca_scale[:count] = scale[:count]

    # ---- the latent variables ----
    def encode(self, inputs: OperatorInputs) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log std of q(z | inputs), each ``[B, m]``."""
        standard = self.standardise(inputs).to(dtype=self.center.dtype)
        flat = standard.flat()
        if self.encoder_kind == "cnn":
            flat = torch.cat([self.conv_encoder.features(standard.grid, self.activation)]
                             + ([standard.scalars] if standard.scalars is not None else []), dim=1)
        if self.encoder_kind == "pca":
            mean = ((flat - self.pca_mean.to(flat.dtype)) @ self.pca_basis.to(flat.dtype)) / \
                self.pca_scale.to(flat.dtype)
            return mean, self.pca_log_std.clamp(*LOG_STD_RANGE).expand_as(mean)
        hidden = self.activation(self.encoder.features(flat, self.activation)[-1])
        mean, log_std = self.encoder_head(hidden).chunk(2, dim=-1)
        return mean, log_std.clamp(*LOG_STD_RANGE)

    def begin_batch(self, inputs: OperatorInputs, extra: OperatorInputs | None = None) -> None:
        """Draw z ~ q(z | inputs) once for this step (the mean in eval mode); every term reads the same beta.

        ``extra`` members (``--coding-batch``) are coded and reconstructed too, but
        the physics reads ``inputs`` only: the autoencoder sees more members a step
        for little more than the cost of coding them."""
        coded = inputs if extra is None else _joined(inputs, extra)
        mean, log_std = self.encode(coded)
        z = mean + log_std.exp() * torch.randn_like(mean) if self.training else mean
        beta = torch.tanh(z)
        self._batch = (inputs, beta[:len(inputs)], coded, beta, mean, log_std)

    def beta(self, inputs) -> torch.Tensor:
        """``[B, m]`` latent variables of ``inputs``: given, drawn for this step, or tanh of the encoder's mean."""
        if isinstance(inputs, LatentInputs):
            return torch.tanh(inputs.z.to(self.center.dtype))
        if self._batch is not None and inputs is self._batch[0]:
            return self._batch[1]
        return torch.tanh(self.encode(inputs)[0])

    # ---- the loss terms of the latent model ----
    def value_count(self) -> int:
        """Values reconstructed per member: every input channel at every sensor node, and the params."""
        return len(self.layout.channels) * len(self.sensor_points) + len(self.layout.scalars)

    def latent_terms(self) -> dict[str, torch.Tensor]:
        """Reconstruction (negative log-likelihood per value) of each input, and the KL term, for this step."""
        _, _, inputs, beta, mean, log_std = self._batch
        count = self.value_count()
        terms = {}
        x = self._scaled({a: self.sensor_points[:, i] for i, a in enumerate(self.layout.axis_names)}, self.input_axes)
        for c, name in enumerate(self.layout.channels):
            decoder = self.input_decoders[name]
            raw = decoder._product_values(x.to(beta.dtype), decoder._branch_of(beta))[0]
            values = inputs.grid[:, c].reshape(len(beta), -1).to(raw.dtype)
            terms[f"reconstruct_{name}"] = self._negative_log_likelihood(c, name, raw, values).mean() * \
                (values.shape[1] / count)
        if self.scalar_head is not None:
            standard = self.standardise(inputs).scalars.to(beta.dtype)
            offset = len(self.layout.channels)
            for s, name in enumerate(self.layout.scalars):
                predicted = self.scalar_head(beta)[:, s]
                terms[f"reconstruct_{name}"] = _gaussian_nll(standard[:, s], predicted,
                                                             self.log_noise[offset + s]).mean() / count
        kl = 0.5 * (mean.square() + (2 * log_std).exp() - 1 - 2 * log_std).sum(dim=1)
        terms["kl"] = kl.mean() / count
        return terms

    def _negative_log_likelihood(self, c: int, name: str, raw: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        kind = self.likelihoods[name]
        if kind == "bernoulli":
            middle = (self.phase_low[c] + self.phase_high[c]) / 2
            target = (values > middle).to(raw.dtype)
            return torch.nn.functional.binary_cross_entropy_with_logits(raw, target, reduction="none")
        if kind == "lognormal":
            standard = (values.clamp_min(1e-300).log() - self.log_mean[c]) / self.log_scale[c]
        else:
            standard = (values - self.grid_mean[c]) / self.grid_scale[c]
        return _gaussian_nll(standard, raw, self.log_noise[c])

    # ---- frozen decoders (the inverse problem) ----
    def freeze_trunks(self, frozen: bool = True) -> None:
        """Keep the decoders' trunk features of every point set seen, for as long as the weights stay fixed.

        Only the branch depends on the latent variables, so with frozen weights
        (an inverse problem) the trunk, jets included, is evaluated once per
        point set; each optimisation step then costs the inner products only.
        """
        self._trunk_cache = [] if frozen else None

    def _trunk(self, decoder: _Decoder, coordinates, table=None, axes=None) -> list:
        """``decoder``'s trunk features (jets with ``table``) at the points; from the cache when frozen."""
        names = None if decoder is self.decoder else self.input_axes
        x = self._points(coordinates, names).to(self.center.dtype)
        cache = getattr(self, "_trunk_cache", None)
        if cache is not None:
            for owner, points, kind, features in cache:
                if owner is decoder and kind == table and points.shape == x.shape and torch.equal(points, x):
                    return features
        with torch.no_grad() if cache is not None else torch.enable_grad():
            if table is None:
                features = decoder._trunk_features(self._scaled(coordinates, names).to(self.center.dtype))
            else:
                features = decoder._trunk_features(self._scaled_jet(coordinates, table, axes, names))
        if cache is not None:
            cache.append((decoder, x.detach().clone(), table, features))
        return features

    # ---- decoding ----
    def _physical(self, c: int, raw):
        """A decoded channel (tensor or jet) in the input's units: the likelihood's mean."""
        kind = self.likelihoods[self.layout.channels[c]]
        if kind == "bernoulli":  # low + (high - low) sigmoid(raw), written with tanh
            half, middle = (self.phase_high[c] - self.phase_low[c]) / 2, (self.phase_high[c] + self.phase_low[c]) / 2
            return _tanh(raw * 0.5) * half + middle
        if kind == "lognormal":
            return _exp(raw * self.log_scale[c] + self.log_mean[c])
        return raw * self.grid_scale[c] + self.grid_mean[c]

    def decode_inputs(self, coordinates: Mapping[str, torch.Tensor], beta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every varying input generated by ``beta`` at the points (``[B, n]``) and random param (``[B]``)."""
        out = {}
        for c, name in enumerate(self.layout.channels):
            decoder = self.input_decoders[name]
            out[name] = self._physical(c, decoder._values_from(self._trunk(decoder, coordinates),
                                                               decoder._branch_of(beta))[0])
        out.update(self.decode_params(beta))
        return out

    def decode_params(self, beta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every random param generated by ``beta``, ``[B]`` each, in its own units, inside its prior's support."""
        if self.scalar_head is None:
            return {}
        standard = self.scalar_head(beta)
        return {name: (standard[:, s] * self.scalar_scale[s] + self.scalar_mean[s]).clamp(*self.param_supports[s])
                for s, name in enumerate(self.layout.scalars)}

    @torch.no_grad()
    def draw_inputs(self, decoded: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Draws from the input likelihoods p(a | beta) around ``decode_inputs``' values: the posterior
        predictive of the inputs includes the decoders' own noise (a two-phase pixel is 5 or 10, not 7.3)."""
        out = dict(decoded)

        def noise(like: torch.Tensor) -> torch.Tensor:
            return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)

        for c, name, mean, kind, spread in self._input_likelihoods(decoded):
            if kind == "bernoulli":
                uniform = torch.rand(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
                out[name] = torch.where(uniform < spread, self.phase_high[c], self.phase_low[c]).to(mean.dtype)
            elif kind == "lognormal":
                out[name] = mean * torch.exp(spread * noise(mean))
            else:
                out[name] = mean + spread * noise(mean)
        offset = len(self.layout.channels)
        for s, name in enumerate(self.layout.scalars):
            if name in decoded:
                spread = self.scalar_scale[s] * self.log_noise[offset + s].exp()
                out[name] = (decoded[name] + spread * noise(decoded[name])).clamp(*self.param_supports[s])
        return out

    def likelihood_mixtures(self, decoded: dict[str, torch.Tensor]) -> dict[str, DrawMixture]:
        """The posterior of each input field and random param in ``decoded`` (rows: draws of z) as the mixture
        over the draws of its likelihood around the decoded value: what :meth:`draw_inputs` draws from,
        summarised without drawing, so a posterior summary at a point depends on the point alone (not on
        noise drawn per query row) and carries no Monte Carlo noise of its own."""
        out = {}
        for c, name, value, kind, spread in self._input_likelihoods(decoded):
            if kind == "bernoulli":
                out[name] = DrawMixture(kind, spread, phases=(float(self.phase_low[c]), float(self.phase_high[c])))
            else:  # (log-normal: the decoder gives the median m; log a ~ N(log m, s^2))
                out[name] = DrawMixture(kind, value, spread.detach().reshape(1, 1))
        offset = len(self.layout.channels)
        for s, name in enumerate(self.layout.scalars):
            if name in decoded:
                spread = (self.scalar_scale[s] * self.log_noise[offset + s].exp()).detach()
                out[name] = DrawMixture("gaussian", decoded[name].reshape(len(decoded[name]), -1),
                                        spread.reshape(1, 1), bounds=self.param_supports[s])
        return out

    def _input_likelihoods(self, decoded: dict[str, torch.Tensor]):
        """(channel, name, decoded value, likelihood, its parameter) for each input field in ``decoded``: the
        upper phase's probability (Bernoulli), the std of log a (log-normal) or of a (Gaussian)."""
        for c, name in enumerate(self.layout.channels):
            if name not in decoded:
                continue
            value, kind = decoded[name], self.likelihoods[name]
            if kind == "bernoulli":
                low, high = self.phase_low[c], self.phase_high[c]
                yield c, name, value, kind, ((value - low) / (high - low)).clamp(0, 1)
            elif kind == "lognormal":
                yield c, name, value, kind, self.log_scale[c] * self.log_noise[c].exp()
            else:
                yield c, name, value, kind, self.grid_scale[c] * self.log_noise[c].exp()

    def forward(self, coordinates: Mapping[str, torch.Tensor], inputs) -> dict[str, torch.Tensor]:
        beta = self.beta(inputs)
        trunk = self._trunk(self.decoder, coordinates)
        out = dict(zip(self.output_names, self.decoder._values_from(trunk, self.decoder._branch_of(beta))))
        if isinstance(inputs, LatentInputs):
            decoded = self.decode_inputs(coordinates, beta)
            out.update({name: decoded[name] for name in self.layout.channels})
        return out

    def jets(self, coordinates: Mapping[str, torch.Tensor], table, axes, inputs,
             differentiated: Optional[frozenset] = None) -> dict[str, Jet]:
        """The fields (and, for latent inputs, the decoded input channels) as jets for ``table``.

        With ``differentiated`` (the names whose derivatives are read, ``runtime/derivatives.py``) the others
        come as values alone: the mixed form reads the input and the fluxes without their slopes, which were
        about 40% of an inverse problem's step (two-phase Darcy: 0.15 s of CPU, now 0.09 s).
        """
        def derived(names) -> Optional[list]:
            return None if differentiated is None else [name in differentiated for name in names]

        beta = self.beta(inputs)
        trunk = self._trunk(self.decoder, coordinates, table, axes)
        out = dict(zip(self.output_names, self.decoder._jets_from(trunk, self.decoder._branch_of(beta),
                                                                  derived(self.output_names))))
        if isinstance(inputs, LatentInputs):
            for c, name in enumerate(self.layout.channels):
                decoder = self.input_decoders[name]
                trunk = self._trunk(decoder, coordinates, table, axes)
                out[name] = self._physical(c, decoder._jets_from(trunk, decoder._branch_of(beta), derived([name]))[0])
        return out


def _joined(first: OperatorInputs, second: OperatorInputs) -> OperatorInputs:
    """The members of ``first`` followed by those of ``second``."""
    def cat(a, b):
        return None if a is None else torch.cat([a, b.to(a.device, a.dtype)])

    return OperatorInputs(cat(first.grid, second.grid), cat(first.scalars, second.scalars))


def _gaussian_nll(values: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((values - mean) / log_std.exp()).square() + log_std + 0.5 * math.log(2 * math.pi)


def _tanh(x):
    return x.map(elementwise.tanh) if isinstance(x, Jet) else torch.tanh(x)


def _exp(x):
    return x.map(elementwise.exp) if isinstance(x, Jet) else torch.exp(x)
