"""Exact NLP derivatives built collocation point by collocation point.

A transcribed problem (:func:`gaitsim.ocp.transcribe`) is ``f(z), g(z) = outer(z, Y(z))``
where ``Y`` stacks the outputs ``y_j = node(w_j)`` of one node function at every
collocation point ``j`` and the node inputs ``w_j = A_j z`` are linear in the decision
vector. CasADi's automatic Jacobian and Hessian of such an NLP colour the whole
expression graph and push up to 64 directional derivatives through every node at
once; for muscle-driven walking that is several times the work of differentiating one
node symbolically and evaluating that derivative at every node. This module does the
latter, by the chain rule:

* constraint Jacobian: ``J = g_z + g_Y Y_z`` with ``Y_z = blockdiag(dy/dw (w_j)) A``;
* Lagrangian Hessian, with ``L~(z, Y) = lam_f f + lam_g' g`` and ``mu = dL~/dY``::

      H = L~_zz + L~_zY Y_z + Y_z' L~_Yz + Y_z' L~_YY Y_z
          + A' blockdiag(d2(mu_j' y)/dw2 (w_j)) A

The node derivatives are scalar (SX) expressions built once and mapped over the nodes;
the outer derivatives are CasADi's own, on a graph with no model in it. The result is
the exact Jacobian and Hessian (the tests compare them with CasADi's to rounding).
"""

from __future__ import annotations

import casadi as ca
import numpy as np

from gaitsim.ocp.transcription import NLP, node_input_offsets

__all__ = ["structured_derivatives"]


def _blockdiag(blocks: ca.MX, width: int, count: int) -> ca.MX:
    """``[B_0, B_1, ...]`` (horizontally stacked ``rows x width`` blocks) as blockdiag."""
    return ca.diagcat(*ca.horzsplit(blocks, [width * k for k in range(count + 1)]))


def structured_derivatives(
    nlp: NLP, *, parallel: int = 1, hessian: bool = True
) -> dict[str, ca.Function]:
    """``jac_g`` and ``hess_lag`` functions for :func:`casadi.nlpsol` (IPOPT's names).

    Parameters
    ----------
    nlp
        A transcribed problem.
    parallel
        Threads used to evaluate the node functions and their derivatives (CasADi's
        ``map(..., "thread", parallel)``); 1 evaluates them serially.
    hessian
        Whether to build ``hess_lag`` too (not needed with a limited-memory Hessian).

    Returns
    -------
    dict
        ``{"jac_g": (x, p) -> (g, jac_g_x), "hess_lag": (x, p, lam_f, lam_g) ->
        triu_hess_gamma_x_x}`` (``hess_lag`` only if ``hessian``), as
        :func:`casadi.nlpsol` takes them in its options.
    """
    node = nlp.node
    offsets = node_input_offsets(node)
    nw = offsets[-1]
    ny = node.numel_out(0)
    nz = nlp.z.shape[0]
    ng = nlp.g.shape[0]
    n_nodes = nlp.node_inputs.numel_out(0) // nw

    # The node inputs are linear in z: W = A z (checked, so that the chain rule holds).
    zs = ca.MX.sym("z", nz)
    w_of_z = nlp.node_inputs(zs)
    a_fn = ca.Function("A", [zs], [ca.jacobian(w_of_z, zs)])
    a = a_fn(np.zeros(nz))
    probe = np.linspace(-1.0, 1.0, nz)
    if float(ca.norm_inf(a_fn(probe) - a)) != 0.0 or float(
        ca.norm_inf(nlp.node_inputs(probe) - ca.mtimes(a, probe))
    ) > 1e-12 * max(1.0, float(np.abs(probe).max())):
        raise ValueError("the node inputs of the transcription are not linear in z")

    # One node, symbolically (node_function builds it from SX): the inputs as one
    # vector, y and dy/dw (d2(mu'y)/dw2 below, when the Hessian is wanted).
    w = ca.SX.sym("w", nw)
    y = node(*ca.vertsplit(w, offsets))
    node_w = ca.Function("node_w", [w], [y])
    node_jac = ca.Function("node_jac", [w], [ca.jacobian(y, w)])

    def mapped(fn: ca.Function) -> ca.Function:
        if parallel > 1:
            return fn.map(n_nodes, "thread", parallel)
        return fn.map(n_nodes)

    # The outer function's own derivatives (no model in that graph), and the NLP's
    # functions of z assembled from them and the mapped node derivatives.
    ys = ca.MX.sym("Y", ny * n_nodes)
    f_outer, g_outer = nlp.outer(zs, ys)[:2]
    outer_jac = ca.Function(
        "outer_jac", [zs, ys], [g_outer, ca.jacobian(g_outer, zs), ca.jacobian(g_outer, ys)]
    )
    p = ca.MX.sym("p", 0)
    w_all = ca.reshape(ca.mtimes(a, zs), nw, n_nodes)
    y_all = ca.vec(mapped(node_w)(w_all))
    y_z = ca.mtimes(_blockdiag(mapped(node_jac)(w_all), nw, n_nodes), a)
    g, g_z, g_y = outer_jac(zs, y_all)
    jac_g = ca.Function(
        "nlp_jac_g", [zs, p], [g, g_z + ca.mtimes(g_y, y_z)], ["x", "p"], ["g", "jac_g_x"]
    )
    if not hessian:
        return {"jac_g": jac_g}

    mu = ca.SX.sym("mu", ny)
    node_hess = ca.Function("node_hess", [w, mu], [ca.hessian(ca.dot(mu, y), w)[0]])
    lam_f = ca.MX.sym("lam_f")
    lam_g = ca.MX.sym("lam_g", ng)
    lag = lam_f * f_outer + ca.dot(lam_g, g_outer)
    grad_z = ca.gradient(lag, zs)
    grad_y = ca.gradient(lag, ys)
    outer_hess = ca.Function(
        "outer_hess",
        [zs, ys, lam_f, lam_g],
        [grad_y, ca.jacobian(grad_z, zs), ca.jacobian(grad_z, ys), ca.jacobian(grad_y, ys)],
    )
    mu_all, h_zz, h_zy, h_yy = outer_hess(zs, y_all, lam_f, lam_g)
    h_nodes = mapped(node_hess)(w_all, ca.reshape(mu_all, ny, n_nodes))
    cross = ca.mtimes(h_zy, y_z)
    hessian_lag = (
        h_zz
        + cross
        + cross.T
        + ca.mtimes([y_z.T, h_yy, y_z])
        + ca.mtimes([a.T, _blockdiag(h_nodes, nw, n_nodes), a])
    )
    hess_lag = ca.Function(
        "nlp_hess_l",
        [zs, p, lam_f, lam_g],
        [ca.triu(hessian_lag)],
        ["x", "p", "lam_f", "lam_g"],
        ["triu_hess_gamma_x_x"],
    )
    return {"jac_g": jac_g, "hess_lag": hess_lag}
