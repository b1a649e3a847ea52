"""coursekit._validate: the argument checks behind every public numpy function."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coursekit._validate import (Dims, check_array, check_bool_or_01, check_int_array,
                                 check_positive_int, check_same_dtype)


def test_check_array_returns_the_same_object():
    x = np.zeros((2, 3))
    assert check_array("x", x, ("N", "D")) is x


@pytest.mark.parametrize("bad", [[1.0, 2.0], 3.0, None, "abc"])
def test_non_array_is_a_type_error_naming_the_argument(bad):
    with pytest.raises(TypeError, match=r"^Wx must be a numpy.ndarray of shape \(D, H\)"):
        check_array("Wx", bad, ("D", "H"))


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex128, bool])
def test_non_float_dtype_is_rejected(dtype):
    with pytest.raises(ValueError, match=r"^x must be float32 or float64"):
        check_array("x", np.zeros((2, 2), dtype=dtype), ("N", "D"))


def test_wrong_number_of_dimensions_names_argument_and_expected_shape():
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) \(2 dimensions\), got shape \(3,\)"):
        check_array("h0", np.zeros(3), ("N", "H"))


def test_symbols_bind_across_arguments_and_mismatch_says_where():
    dims = Dims()
    check_array("x", np.zeros((2, 4, 5)), ("N", "T", "D"), dims)
    assert dims == {"N": 2, "T": 4, "D": 5}
    with pytest.raises(ValueError, match=r"Wx must have shape \(D, H\) with D=5 \(from x\)"):
        check_array("Wx", np.zeros((6, 3)), ("D", "H"), dims)


def test_known_dims_and_fixed_integers():
    dims = Dims(H=3)
    with pytest.raises(ValueError, match=r"from the call"):
        check_array("b", np.zeros(4), ("H",), dims)
    with pytest.raises(ValueError, match=r"axis 1 is 4, expected 3"):
        check_array("y", np.zeros((2, 4)), (2, 3))


def test_check_same_dtype():
    a32, a64 = np.zeros(2, np.float32), np.zeros(2, np.float64)
    assert check_same_dtype(x=a32, b=a32, h0=None) == np.float32
    with pytest.raises(ValueError, match=r"^Wh has dtype float64 but x has dtype float32"):
        check_same_dtype(x=a32, Wh=a64)


def test_check_int_array_dtype_and_bounds():
    y = np.array([[0, 2], [1, 1]])
    assert check_int_array("y", y, ("N", "T"), low=0, high=3) is y
    with pytest.raises(ValueError, match=r"^y must have an integer dtype"):
        check_int_array("y", y.astype(float), ("N", "T"))
    with pytest.raises(ValueError, match=r"^y must hold integers < 2, got maximum 2"):
        check_int_array("y", y, high=2)
    with pytest.raises(ValueError, match=r"^y must hold integers >= 1, got minimum 0"):
        check_int_array("y", y, low=1)
    with pytest.raises(TypeError, match=r"^y must be a numpy.ndarray"):
        check_int_array("y", [0, 1])


def test_check_bool_or_01():
    assert check_bool_or_01("mask", np.array([[True, False]]), ("N", "T")).dtype == bool
    check_bool_or_01("mask", np.array([[1.0, 0.0]]), ("N", "T"))
    with pytest.raises(ValueError, match=r"^mask must be boolean or hold only 0 and 1"):
        check_bool_or_01("mask", np.array([[1, 2]]), ("N", "T"))
    with pytest.raises(TypeError, match=r"^mask must be a numpy.ndarray"):
        check_bool_or_01("mask", [[1, 0]], ("N", "T"))


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, "3", None])
def test_check_positive_int_rejects(bad):
    with pytest.raises(ValueError, match=r"^V must be a positive integer"):
        check_positive_int("V", bad)


def test_check_positive_int_accepts_numpy_ints():
    out = check_positive_int("V", np.int64(7))
    assert out == 7 and type(out) is int


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=4), st.sampled_from([np.float32, np.float64]))
def test_any_matching_shape_passes_and_binds(shape, dtype):
    names = "NTDH"[:len(shape)]
    dims = Dims()
    check_array("x", np.zeros(shape, dtype), tuple(names), dims)
    assert [dims[k] for k in names] == shape


def test_check_like_names_argument_and_dtype():
    from coursekit._validate import check_like
    good = np.zeros((2, 3))
    assert check_like("dh", good, (2, 3), np.float64) is good
    with pytest.raises(ValueError, match=r"dh must have shape \(2, 3\)"):
        check_like("dh", np.zeros((3, 2)), (2, 3), np.float64)
    with pytest.raises(ValueError, match="dh must have the forward pass's dtype float64, got float32"):
        check_like("dh", good.astype(np.float32), (2, 3), np.float64)


def test_mask_check_rejects_non_array_with_a_message():
    from coursekit._validate import check_bool_or_01
    with pytest.raises(TypeError, match="mask must be a numpy.ndarray"):
        check_bool_or_01("mask", [1, 0])
