"""coursekit.train.gradcheck: finite differences and relative error."""
import numpy as np
import pytest

from coursekit.train.gradcheck import grad_check, numerical_gradient, numerical_gradient_array, rel_error


def test_rel_error_values():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error(1.0, 3.0) == pytest.approx(0.5)  # |1-3| / (1+3)
    assert rel_error(np.array([1.0, 0.0]), np.array([1.0, 1.0])) == pytest.approx(1.0)
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0
    assert rel_error(0.0, 0.0) == 0.0  # eps guards the division


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match="equal shapes"):
        rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_a_cubic_and_restores_x(rng):
    x = rng.standard_normal((3, 4))
    x0 = x.copy()
    g = numerical_gradient(lambda: np.sum(x ** 3), x)
    assert rel_error(g, 3 * x0 ** 2) < 1e-8
    np.testing.assert_array_equal(x, x0)


def test_numerical_gradient_needs_an_array():
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])


def test_numerical_gradient_array_is_the_vector_jacobian_product(rng):
    x, W = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    df = rng.standard_normal((2, 4))
    assert rel_error(numerical_gradient_array(lambda: x @ W, x, df), df @ W.T) < 1e-8
    assert rel_error(numerical_gradient_array(lambda: x @ W, W, df), x.T @ df) < 1e-8
    with pytest.raises(TypeError, match="df must be"):
        numerical_gradient_array(lambda: x @ W, x, 1.0)


def test_grad_check_passes_right_and_flags_wrong_gradients(rng):
    a, b = rng.standard_normal(4), rng.standard_normal(4)

    def f():
        return np.sum(a * b) + np.sum(np.sin(a))

    ok = grad_check(f, {"a": a, "b": b}, {"a": b + np.cos(a), "b": a.copy()})
    assert max(ok.values()) < 1e-8
    bad = grad_check(f, {"a": a, "b": b}, {"a": 2 * (b + np.cos(a)), "b": a.copy()})
    assert bad["a"] > 0.1 and bad["b"] < 1e-8
    with pytest.raises(ValueError, match=r"missing gradients for \['b'\]"):
        grad_check(f, {"a": a, "b": b}, {"a": b})
