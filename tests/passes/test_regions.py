"""Regions that the bounding-box test cannot judge (curves, pins on curved shapes) and that sampling finds
empty: a located warning at ``check``, at the region's declaration, rather than a failure once training
samples them."""

import pytest

from pdedsl.cli import main

HEAD = "problem p\ndomain O = box(x: [0, 1], y: [0, 1])\n"
TAIL = "field u\nequation in O:\n    -laplace(u) = 1\nboundary on boundary(O):\n    u = 0\n"


def check(tmp_path, capsys, text: str) -> tuple[int, str]:
    path = tmp_path / "spec.pde"
    path.write_text(text, encoding="utf-8")
    status = main(["check", str(path)])
    return status, capsys.readouterr().err


@pytest.mark.parametrize("region", [
    "region c = O where (x - 3)^2 + y^2 == 0.25",                 # a circle wholly right of the square
    "region c = O where x == y + 5",                              # a line that misses it
    "region c = O where x^2 + y^2 == 0.25 and y > 0.6",           # a circle inside, cut away by a bound
])
def test_a_curve_region_outside_its_domain_is_a_located_warning(tmp_path, capsys, region):
    status, err = check(tmp_path, capsys, HEAD + region + "\n" + TAIL)
    assert status == 0
    assert "spec.pde:3:1: warning: region 'c' holds no point:" in err
    assert "none of 4096 points put on its equations lies in domain 'O' where its predicate holds" in err


def test_a_point_off_a_disks_rim_is_a_located_warning(tmp_path, capsys):
    """A pinned point inside the disk's bounding box but not on its rim: the bounding box cannot tell."""
    text = ("problem p\ndomain D = disk(center: (0, 0), radius: 1)\nregion c = boundary(D) where x == 0 and "
            "y == 0.5\nfield u\nequation in D:\n    -laplace(u) = 1\nboundary on boundary(D):\n    u = 0\n")
    status, err = check(tmp_path, capsys, text)
    assert status == 0 and "spec.pde:3:1: warning: region 'c' holds no point:" in err


@pytest.mark.parametrize("region", [
    "region c = O where x^2 + y^2 == 0.25",                       # a quarter circle inside
    "region c = O where x == y",
    "region c = O where (x - 1.2)^2 + y^2 == 0.25",               # mostly outside, partly in
    "region c = boundary(O) where x == 0.5",                      # two points of the rim
])
def test_a_curve_region_that_meets_its_domain_is_not_warned_about(tmp_path, capsys, region):
    status, err = check(tmp_path, capsys, HEAD + region + "\n" + TAIL)
    assert status == 0 and "warning" not in err, err
