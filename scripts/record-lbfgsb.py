#!/usr/bin/env python3
"""Records L-BFGS-B reference iterates from SciPy for the Sharpness tests.

Runs scipy.optimize.minimize(method='L-BFGS-B', maxcor=10) on a few bound-constrained problems and
writes every iterate (x_k, f_k), as the callback sees it after each iteration, to
Tests/SharpnessTests/Fixtures/lbfgsb-reference.json. SciPy >= 1.15 runs a C translation of the
same Fortran code (L-BFGS-B 3.0, Byrd, Lu, Nocedal & Zhu; Morales & Nocedal's 2011 subspace step);
earlier SciPy runs the Fortran itself. Each problem stores whatever data defines it (matrices,
shifts), so the Swift test rebuilds the identical objective; bounds use null for "no bound".

    python3 scripts/record-lbfgsb.py        # rewrites the fixture
"""

import json
import os
import sys

import numpy as np
import scipy
from scipy.optimize import minimize

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SharpnessTests",
                   "Fixtures", "lbfgsb-reference.json")


def quadratic(params):
    q = np.array(params["Q"])
    b = np.array(params["b"])

    def f(x):
        qx = q @ x
        return 0.5 * x @ qx - b @ x, qx - b
    return f


def rosenbrock(_params):
    def f(x):
        a = x[1:] - x[:-1] ** 2
        b = 1.0 - x[:-1]
        value = np.sum(100.0 * a ** 2 + b ** 2)
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * a - 2.0 * b
        g[1:] += 200.0 * a
        return value, g
    return f


def quartic_outside(params):
    # r = x - c; f = sum r^2 + (sum r^2)^2 / 4 + coupling * sum r_i r_{i+1}
    c = np.array(params["c"])
    k = params["coupling"]

    def f(x):
        r = x - c
        s = np.sum(r * r)
        value = s + 0.25 * s * s + k * np.sum(r[:-1] * r[1:])
        g = 2.0 * r + s * r
        g[:-1] += k * r[1:]
        g[1:] += k * r[:-1]
        return value, g
    return f


def negative_softplus(params):
    # Keskar-like: maximize sum softplus(A y + b) - ridge/2 |y|^2 over a box, i.e. minimize its
    # negative (indefinite: some coordinates end inside the box, others on it).
    a = np.array(params["A"])
    b = np.array(params["b"])
    ridge = params["ridge"]

    def f(y):
        z = a @ y + b
        value = -np.sum(np.logaddexp(0.0, z)) + 0.5 * ridge * (y @ y)
        g = -(a.T @ (1.0 / (1.0 + np.exp(-z)))) + ridge * y
        return value, g
    return f


OBJECTIVES = {"quadratic": quadratic, "rosenbrock": rosenbrock,
              "quartic_outside": quartic_outside, "negative_softplus": negative_softplus}


def problems():
    rng = np.random.default_rng(20240601)
    out = []

    # 1. A shifted quadratic with every kind of bound (both, lower only, upper only, none),
    #    several of them active at the solution.
    n = 8
    m = rng.standard_normal((n, n))
    q = m.T @ m / n + 0.5 * np.eye(n)
    centre = np.array([2.0, 1.0, -1.0, 0.5, -2.0, 3.0, 0.0, 2.0])
    out.append(dict(
        name="quadratic_mixed_bounds", objective="quadratic",
        params={"Q": q.tolist(), "b": (q @ centre).tolist()},
        x0=[0.0] * n,
        lower=[-1.0, None, -0.3, None, -1.0, 0.0, -2.0, None],
        upper=[1.0, 0.5, None, None, 1.0, 2.0, -0.5, 1.0],
        maxiter=15000))

    # 2. Rosenbrock in 6 dimensions; two bounds bind at the solution.
    out.append(dict(
        name="rosenbrock6_binding", objective="rosenbrock", params={},
        x0=[-1.2, 1.0, -1.2, 1.0, -1.2, 1.0],
        lower=[-2.0, -2.0, -2.0, -2.0, 1.2, -2.0],
        upper=[2.0, 2.0, 0.5, 2.0, 3.0, 2.0],
        maxiter=15000))

    # 3. Rosenbrock in 10 dimensions in a box that cuts off the minimum (every variable boxed).
    out.append(dict(
        name="rosenbrock10_box", objective="rosenbrock", params={},
        x0=[-1.0, 1.0] * 5,
        lower=[-1.5] * 10, upper=[0.9] * 10,
        maxiter=15000))

    # 4. Unconstrained minimum outside the box [-1, 1]^5 (two coordinates far out, coupled to the rest).
    out.append(dict(
        name="quartic_minimum_outside_box", objective="quartic_outside",
        params={"c": [3.0, -0.2, 2.5, 0.3, -0.5], "coupling": 0.6},
        x0=[-0.5, 0.5, -0.5, 0.5, 0.0],
        lower=[-1.0] * 5, upper=[1.0] * 5,
        maxiter=15000))

    # 5. No bounds at all (L-BFGS-B runs as L-BFGS and skips the Cauchy point).
    out.append(dict(
        name="rosenbrock4_unbounded", objective="rosenbrock", params={},
        x0=[-1.2, 1.0, -1.2, 1.0],
        lower=[None] * 4, upper=[None] * 4,
        maxiter=15000))

    # 6. Keskar-like: 10 iterations maximizing a convex function over a box |y_i| <= eps(|w_i| + 1).
    n, p = 6, 9
    a = rng.standard_normal((p, n))
    w = rng.standard_normal(n)
    eps = 0.5
    radius = (eps * (np.abs(w) + 1.0)).tolist()
    out.append(dict(
        name="negative_softplus_keskar10", objective="negative_softplus",
        params={"A": a.tolist(), "b": rng.standard_normal(p).tolist(), "ridge": 3.0},
        x0=[0.0] * n,
        lower=[-r for r in radius], upper=radius,
        maxiter=10))
    return out


def run(problem):
    f = OBJECTIVES[problem["objective"]](problem["params"])
    bounds = list(zip(problem["lower"], problem["upper"]))
    iterates = []

    def callback(intermediate_result):
        iterates.append({"x": intermediate_result.x.tolist(), "f": float(intermediate_result.fun)})

    result = minimize(f, np.array(problem["x0"], dtype=float), jac=True, method="L-BFGS-B",
                      bounds=bounds, callback=callback,
                      options={"maxcor": 10, "maxiter": problem["maxiter"], "gtol": 1e-5,
                               "ftol": 1e7 * np.finfo(float).eps, "maxls": 20})
    problem = dict(problem)
    problem["options"] = {"maxcor": 10, "maxiter": problem["maxiter"], "pgtol": 1e-5, "factr": 1e7,
                          "maxls": 20}
    problem["iterates"] = iterates
    problem["result"] = {"x": result.x.tolist(), "fun": float(result.fun), "nit": int(result.nit),
                         "nfev": int(result.nfev), "status": int(result.status),
                         "message": str(result.message)}
    return problem


def main():
    recorded = [run(p) for p in problems()]
    doc = {"generator": "scripts/record-lbfgsb.py", "scipy": scipy.__version__,
           "numpy": np.__version__, "problems": recorded}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    for p in recorded:
        r = p["result"]
        print(f"{p['name']:32s} nit={r['nit']:3d} nfev={r['nfev']:3d} f={r['fun']:.10g}  {r['message']}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
