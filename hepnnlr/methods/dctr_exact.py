"""The exact statistical error of the DCTR fit of a Gaussian mean, the yardstick of its
bootstrap.

The Gaussian toy of Sec. III A of A. Andreassen, S.-C. Hsu, B. Nachman, N. Suaysom,
A. Suresh, "Parameter estimation using neural networks in the presence of detector
effects", arXiv:2010.03569: target x ~ N(μ, 1), nominal N(0, 1), the optimal classifier
f = sigmoid(z) with z = θx − θ²/2 (the log of Eq. 10). The DCTR fit (Eq. 3,
:func:`hepnnlr.methods.dctr_fits.dctr_fit`) solves the estimating equation

    ψ(θ) = −mean_target[(1 − f)(x − θ)] + mean_nominal[f (x − θ)] = 0,

an M-estimator: resampling the target alone (the bootstrap's question; f and the nominal
sample fixed) gives the sandwich variance

    σ² = Var_target[(1 − f)(x − θ)] / (n J²),
    J = E_target[f(1 − f)(x − θ)²] + E_nominal[f(1 − f)(x − θ)²]

at θ = μ (the (1 − f) and f terms of dψ/dθ cancel, since p_nominal f = p_target (1 − f)
there). At μ = 0 (f = 1/2) this is exactly 1/√n, the error of the sample mean; away from
the nominal the DCTR loss is not the likelihood and the error is larger (μ = 0.5: 5.4 %
above 1/√n). docs/fits.md derives it. NumPy and scipy (quadrature).
"""

from __future__ import annotations

import numpy as np
from scipy import integrate

__all__ = ["dctr_gaussian_mean_error"]


def dctr_gaussian_mean_error(mu: float, n: int) -> float:
    """The exact (sandwich) error of the DCTR fit of the mean ``mu`` of N(mu, 1) from ``n``
    target events against an N(0, 1) nominal sample (module docstring), by quadrature."""

    def density(x, m):
        return np.exp(-0.5 * (x - m) ** 2) / np.sqrt(2 * np.pi)

    def f(x):
        return 1 / (1 + np.exp(-(mu * x - mu * mu / 2)))

    def expect(g, m):
        # |x| < 14: the Gaussian tails beyond (about 13.5 widths) carry below 1e-37
        return integrate.quad(lambda x: g(x) * density(x, m), -14, 14, limit=200)[0]

    first = expect(lambda x: (1 - f(x)) * (x - mu), mu)
    second = expect(lambda x: ((1 - f(x)) * (x - mu)) ** 2, mu)
    slope = sum(expect(lambda x: f(x) * (1 - f(x)) * (x - mu) ** 2, m) for m in (mu, 0.0))
    return float(np.sqrt((second - first**2) / n) / slope)
