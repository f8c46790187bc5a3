"""NAdam: Adam with Nesterov momentum and a warming momentum schedule."""
from __future__ import annotations

from .optimizer import (
    Optimizer,
    add_into,
    check_number,
    check_options,
    lerp,
    scalar_round,
    scale_into,
    zeros_state,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam with torch's update rule. For each parameter p with gradient g, at step t:

        g = g + weight_decay * p   (decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)); P_t = mu_1 * ... * mu_t
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2**t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom
              - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / denom

    The state of each parameter is "step", "mu_product" (P_t, a number rounded to
    float32 as torch's scalar tensor rounds it unless the default dtype is
    float64), "exp_avg" (m) and "exp_avg_sq" (v).

    >>> import plugrad as pg
    >>> w = pg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = NAdam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([ 0.8944, -0.8944], requires_grad=True)
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_number("learning rate", lr)
        check_number("epsilon value", eps)
        check_number("beta parameter at index 0", betas[0], 0.0, 1.0)
        check_number("beta parameter at index 1", betas[1], 0.0, 1.0)
        check_number("weight_decay value", weight_decay)
        check_number("momentum_decay value", momentum_decay)
        check_options("NAdam", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _update(self, group: dict) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        momentum_decay, maximize = group["momentum_decay"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        states = self.state
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            k = p.backend
            g = grad._array
            if maximize:
                g = k.neg(g)
            state = states.get(p)
            if state is None:
                state = states[p] = {"step": 0, "mu_product": 1.0, "exp_avg": zeros_state(p),
                                     "exp_avg_sq": zeros_state(p)}
            state["step"] = step = state["step"] + 1
            bias_correction2 = 1 - beta2 ** step
            if weight_decay:
                if decoupled:
                    scale_into(p, 1 - lr * weight_decay)
                else:
                    g = k.add(g, k.mul(p._array, weight_decay))
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            state["mu_product"] = mu_product = scalar_round(
                state["mu_product"] * scalar_round(mu))
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m._array = lerp(k, m._array, g, 1 - beta1)
            v._array = k.add(k.mul(v._array, beta2), k.mul(k.mul(g, 1 - beta2), g))
            denom = k.add(k.sqrt(k.div(v._array, bias_correction2)), eps)
            add_into(p, k.div(k.mul(g, -lr * (1.0 - mu) / (1.0 - mu_product)), denom))
            add_into(p, k.div(k.mul(m._array, (-lr * mu_next) / (1.0 - mu_product * mu_next)),
                              denom))
