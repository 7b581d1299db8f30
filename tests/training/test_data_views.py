"""`pdedsl plot FILE.npz --spec SPEC`: a look at the samples of `pdedsl data` before training."""

import numpy as np

from pdedsl.cli import main

PLATE = """problem plate
domain P = box(x: [0, 1], y: [0, 1])
field u
param k ~ uniform(1, 2)
input f ~ gaussian_field(length: 0.3)
equation in P:
    -k*laplace(u) = f
boundary on boundary(P):
    u = 0
"""


def test_a_data_file_is_drawn_with_its_spec_and_refused_without(tmp_path, capsys):
    spec = tmp_path / "plate.pde"
    spec.write_text(PLATE)
    data = tmp_path / "pairs.npz"
    assert main(["data", str(spec), "--n", "2", "--grid", "9", "-q", "-o", str(data)]) == 0
    assert main(["plot", str(data), "--spec", str(spec)]) == 0
    assert (tmp_path / "pairs.png").stat().st_size > 10_000
    assert main(["plot", str(data), "--spec", str(spec), "-o", str(tmp_path / "look.svg")]) == 0
    assert (tmp_path / "look.svg").is_file()
    capsys.readouterr()
    assert main(["plot", str(data)]) == 2  # which spec made it cannot be guessed
    assert "plot it with --spec SPEC" in capsys.readouterr().err
    assert main(["plot", str(data), "--spec", str(spec), "--at", "t=0"]) == 2
    other = tmp_path / "other.pde"
    other.write_text(PLATE.replace("field u", "field w").replace("laplace(u)", "laplace(w)").replace("u = 0", "w = 0")
                     .replace("input f", "input g").replace("= f", "= g"))
    capsys.readouterr()
    assert main(["plot", str(data), "--spec", str(other)]) == 1
    assert "no array of a random input or field of problem 'plate'" in capsys.readouterr().err
    np.savez(tmp_path / "bad.npz", x=np.linspace(0, 1, 9), y=np.linspace(0, 1, 9), f=np.zeros((2, 5, 9)),
             u=np.zeros((2, 9, 9)), k=np.ones(2))
    assert main(["plot", str(tmp_path / "bad.npz"), "--spec", str(spec)]) == 1
    assert "'f' has shape (2, 5, 9), not (samples, len(x), len(y))" in capsys.readouterr().err
