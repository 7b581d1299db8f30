"""A random number inside a field's prior (``... + uniform(2, 3)``) is drawn once per member, like a param's."""

import numpy as np

import pdedsl
from pdedsl.reference.dataset import generate

SPEC = """problem shifted
domain O = box(x: [0, 1], y: [0, 1])
field u
input h ~ threshold(gaussian_field(length: 0.2), below: 0, above: 0) + uniform(2, 3)
equation in O:
    -div(h*grad(u)) = 1
boundary on boundary(O):
    u = 0
"""


def test_a_scalar_primitive_in_a_field_prior_is_one_number_per_member():
    arrays = generate(pdedsl.load(SPEC), 4, 9, 0)
    h = arrays["h"]
    levels = h.reshape(4, -1)
    assert np.all(levels.max(axis=1) == levels.min(axis=1))  # constant over each member's grid
    assert np.all((levels[:, 0] >= 2) & (levels[:, 0] <= 3)) and len(set(levels[:, 0])) == 4
