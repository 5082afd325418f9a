"""Adam with a learning rate per population member: member n of every stacked parameter steps with
lr · s_n, where lr is the group's (scheduled) learning rate and s = `scales` [N].

For each parameter p (leading member axis N), gradient g and step count t (no weight decay, no amsgrad):

    m ← β1·m + (1 − β1)·g
    v ← β2·v + (1 − β2)·g²
    p[n] ← p[n] − (lr · s_n / (1 − β1ᵗ)) · m[n] / (√v[n] / √(1 − β2ᵗ) + ε)

which is torch.optim.Adam's update with lr replaced by lr · s_n in member n's slice: member n trains
as its own model would with its learning rate scaled by s_n (to rounding). Every quantity stays on
the parameters' device (step counts included, as torch's `capturable` Adam), so a step makes nothing
on the host and can be captured in a CUDA graph (excolor.step_graphs); `lr` may be a float or a
0-dim device tensor that the graph's caller fills in place.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor


class MemberAdam(torch.optim.Optimizer):
    """Adam whose learning rate is `lr` × `scales` [N], broadcast over each parameter's leading
    member axis (see the module docstring)."""

    def __init__(
        self,
        params: Iterable[Tensor],
        scales: Tensor,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.scales = scales.detach().float().flatten()
        members = self.scales.numel()
        for group in self.param_groups:
            for param in group["params"]:
                if param.dim() == 0 or param.shape[0] != members:
                    raise ValueError(
                        f"MemberAdam: a parameter of shape {tuple(param.shape)} has no leading member "
                        f"axis of {members}"
                    )

    @torch.no_grad()
    def step(self, closure=None):  # pyright: ignore[reportIncompatibleMethodOverride]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._update(group, params)
        return loss

    def _update(self, group: dict, params: list[Tensor]) -> None:
        beta1, beta2 = group["betas"]
        member_lr = self.scales.to(params[0].device) * group["lr"]  # [N]
        for param in params:
            state = self.state[param]
            if not state:
                state["step"] = torch.zeros((), dtype=torch.float32, device=param.device)
                state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            grad, step = param.grad, state["step"]
            assert grad is not None  # step() passes parameters with a gradient
            mean, square = state["exp_avg"], state["exp_avg_sq"]
            step.add_(1)
            mean.lerp_(grad, 1 - beta1)
            square.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            correction1 = 1 - beta1**step
            correction2 = (1 - beta2**step).sqrt()
            denominator = (square.sqrt() / correction2).add_(group["eps"])
            size = (member_lr / correction1).view(-1, *([1] * (param.dim() - 1)))
            param.sub_(mean / denominator * size)
