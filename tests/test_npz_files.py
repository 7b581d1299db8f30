"""A file named like an .npz that is not one: a plain reason where it is read, never numpy's pickle advice."""

import numpy as np
import pytest

import pdedsl
from pdedsl.npz import NpzError, open_npz
from pdedsl.runtime.family import FamilyError, load_pool
from pdedsl.training.data import DataError, load_points

SPEC = """problem p
domain Omega = box(x: [0, 1], y: [0, 1])
field u
param c ~ uniform(1, 2)
input k from "{data}"
equation in Omega:
    -div(k*grad(u)) = c
boundary on boundary(Omega):
    u = 0
observe u from "{data}" noise 0.1
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "text.npz").write_text("hello\n")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    return tmp_path


@pytest.mark.parametrize("name, reason", [("text.npz", "it is a text file"), ("empty.npz", "the file is empty"),
                                          ("single.npz", "single array")])
def test_check_says_the_file_is_not_an_npz_archive_at_the_statement(files, name, reason):
    spec = files / "spec.pde"
    spec.write_text(SPEC.format(data=name))
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(spec)
    errors = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert [(d.span.line, d.span.column) for d in errors] == [(5, 14), (10, 16)]
    assert all(d.message == f"data file '{name}' is not a readable .npz archive" for d in errors)
    assert all(reason in d.hint for d in errors)
    assert "pickle" not in str(raised.value)


def test_loaders_say_the_file_is_not_an_npz_archive(files):
    problem = pdedsl.load(SPEC.replace('input k from "{data}"', "input k = 1").replace(
        'observe u from "{data}" noise 0.1', ""))
    path = files / "text.npz"
    with pytest.raises(FamilyError, match="not a readable .npz archive: it is a text file") as raised:
        load_pool(problem, path)
    assert "pickle" not in str(raised.value)
    with pytest.raises(DataError, match="not a readable .npz archive: it is a text file"):
        load_points(str(path), "u", ("x", "y"))
    with pytest.raises(FamilyError, match="single array"):
        load_pool(problem, files / "single.npz")


def test_a_real_archive_opens(tmp_path):
    np.savez(tmp_path / "good.npz", x=np.arange(3.0))
    with open_npz(tmp_path / "good.npz") as archive:
        assert archive.files == ["x"]
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(NpzError, match="damaged"):
        open_npz(tmp_path / "broken.npz")


def test_an_array_named_like_a_coordinate_the_problem_lacks_is_warned_about(tmp_path):
    """Readings at (x, t) in a problem without time would be fitted as readings at x."""
    np.savez(tmp_path / "obs.npz", x=np.linspace(0, 1, 5), y=np.linspace(0, 1, 5), t=np.ones(5), u=np.zeros(5))
    spec = tmp_path / "spec.pde"
    spec.write_text(SPEC.replace('input k from "{data}"', "input k = 1").format(data="obs.npz"))
    (warning,) = [w for w in pdedsl.load(spec).warnings if "named like a coordinate" in w.message]
    assert (warning.span.line, warning.span.column) == (10, 16)
    assert warning.message == ("data file 'obs.npz' has an array 't' named like a coordinate, but the problem's "
                               "coordinates are x, y: it is not read")


def _lying_npz(path, name="u", shape=(10 ** 15,)):
    """An archive whose member ``name``'s .npy header claims ``shape`` but holds a few bytes (damage, or a
    hostile file): numpy tries to allocate the whole claimed array before it reads a byte, and 8e15 bytes are
    more than any machine's address space, so the allocation fails whatever the system's overcommit policy."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", header.getvalue() + bytes(64))
        for axis in ("x", "y"):
            buffer = io.BytesIO()
            np.save(buffer, np.linspace(0, 1, 5))
            archive.writestr(f"{axis}.npy", buffer.getvalue())


def test_an_array_whose_header_claims_more_memory_than_there_is_is_refused_at_the_statement(tmp_path):
    _lying_npz(tmp_path / "obs.npz")
    spec = tmp_path / "spec.pde"
    spec.write_text(SPEC.replace('input k from "{data}"', "input k = 1").format(data="obs.npz"))
    with pytest.raises(pdedsl.SpecError) as raised:
        pdedsl.load(spec)
    (error,) = raised.value.errors
    assert (error.span.line, error.span.column) == (10, 16)
    assert error.message == "data file 'obs.npz' has an array that cannot be used"
    assert "'u' cannot be read" in error.hint and "(1000000000000000,)" in error.hint and "memory" in error.hint
    with pytest.raises(DataError, match="'u' cannot be read"):
        load_points(str(tmp_path / "obs.npz"), "u", ("x", "y"))


def _nan_at(index, n=5):
    values = np.zeros(n)
    values[index] = np.nan
    return values


@pytest.mark.parametrize("statement, line, arrays, expected", [
    ('observe u from "d.npz" noise 0.1', 10, dict(x=_nan_at(2), y=np.zeros(5), u=np.zeros(5)),
     "'x' has 1 value(s) that are NaN or infinite (the first at index 2)"),
    ('observe u from "d.npz" noise 0.1', 10, dict(x=np.zeros(5), y=np.zeros(5), u=_nan_at(1) + _nan_at(3)),
     "'u' has 2 value(s) that are NaN or infinite (the first at index 1)"),
    ('reference u from "d.npz"', 10, dict(x=np.zeros(5), y=np.zeros(5), u=np.full(5, np.nan)),
     "every value of 'u' is NaN or infinite"),
    ('input k from "d.npz"', 5, dict(x=np.zeros(5), y=np.zeros(5), k=_nan_at(0)),
     "'k' has 1 value(s) that are NaN or infinite (the first at index 0)"),
])
def test_check_warns_about_values_that_training_refuses(tmp_path, statement, line, arrays, expected):
    """check passed readings with a NaN as 'ok', and train then refused them at the same line."""
    np.savez(tmp_path / "d.npz", **arrays)
    spec = tmp_path / "spec.pde"
    text = SPEC.replace('observe u from "{data}" noise 0.1', "").replace('input k from "{data}"', "input k = 1")
    if statement.startswith("input"):
        text = text.replace("input k = 1", statement)
    else:
        text = text.rstrip("\n") + "\n" + statement + "\n"
    spec.write_text(text)
    (warning,) = [w for w in pdedsl.load(spec).warnings if "NaN" in w.message]
    assert warning.span.line == line
    assert warning.message == f"data file 'd.npz' holds values training refuses: {expected}"


def test_a_reference_may_leave_points_without_a_value(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros(5), y=np.zeros(5), u=_nan_at(2))
    spec = tmp_path / "spec.pde"
    spec.write_text(SPEC.replace('observe u from "{data}" noise 0.1', 'reference u from "d.npz"')
                    .replace('input k from "{data}"', "input k = 1"))
    assert not [w for w in pdedsl.load(spec).warnings if "NaN" in w.message]


def test_array_names_from_a_file_are_shown_escaped_in_messages(tmp_path):
    """An archive's array names come from whoever wrote the file: 'no array named ... (the file has ...)'
    printed them raw, so an escape sequence in one reached the terminal (ESC [2J cleared it) and a
    text-direction control reordered the line."""
    import numpy as np

    from pdedsl.npz import NpzError, read_arrays, read_field

    path = tmp_path / "evil.npz"
    np.savez(path, x=np.linspace(0, 1, 5), **{"\x1b[2Jevil": np.array(["a"]), "u\u202egnp": np.zeros(5)})
    with pytest.raises(NpzError) as raised:
        read_field(path, "u", ("x",))
    assert "(the file has x, \\x1b[2Jevil, u\\u202egnp)" in str(raised.value)
    with pytest.raises(NpzError) as raised:
        read_arrays(path)
    assert str(raised.value).startswith("'\\x1b[2Jevil' holds text")
