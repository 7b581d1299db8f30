from pathlib import Path
import pytest
import test_levenberg as T
P = Path("/tmp/s32/review_probe")

@pytest.mark.parametrize("spec, settings", [(P / f"{n}.pde", {"form": f}) for n in ("plate_inv", "beam_inv") for f in ("weak", "mixed")]
                         + [(P / "beam_inv.pde", {"form": "weak", "hard_dirichlet": False})])
def test_rows(tmp_path, spec, settings, monkeypatch):
    monkeypatch.setattr(T, "SPECS", spec.parent)
    T.test_jacobian_rows_match_autograd_row_by_row(tmp_path, spec.stem, settings)
    T.test_work_in_blocks_of_points_gives_the_same_rows_jacobian_and_loss(tmp_path / "b", spec.stem, settings, monkeypatch)
