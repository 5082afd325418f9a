"""MemberAdam (excolor.member_adam): a learning rate per population member, against torch's Adam run
on each member alone, and through the replayed-step plumbing (excolor.step_graphs)."""

from __future__ import annotations

import pytest
import torch

from excolor.member_adam import MemberAdam
from excolor.step_graphs import EagerStandIn, StepGraphs

SCALES = [0.5, 1.0, 2.0]


def stacked_problem(seed: int = 0):
    """A stacked linear layer of 3 members (weight [3, 4, 5], bias [3, 4]) and its inputs per step."""
    generator = torch.Generator().manual_seed(seed)
    weight, bias = torch.randn(3, 4, 5, generator=generator), torch.randn(3, 4, generator=generator)
    inputs = [torch.randn(3, 7, 5, generator=generator) for _ in range(40)]
    return weight, bias, inputs


def test_one_step_by_hand():
    """Step 1 with g = 2 everywhere: m̂ = 2, v̂ = 4, update = lr·s·2/(2 + ε) ≈ lr·s."""
    param = torch.nn.Parameter(torch.zeros(2, 3))
    optimizer = MemberAdam([param], torch.tensor([1.0, 3.0]), lr=0.1, eps=0.0)
    param.grad = torch.full((2, 3), 2.0)
    optimizer.step()
    torch.testing.assert_close(param.detach(), torch.tensor([[-0.1] * 3, [-0.3] * 3]))


def test_each_member_steps_as_torch_adam_with_its_scaled_learning_rate():
    weight, bias, inputs = stacked_problem()
    stacked = [torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())]
    optimizer = MemberAdam(stacked, torch.tensor(SCALES), lr=0.01)
    alone = [[torch.nn.Parameter(weight[n].clone()), torch.nn.Parameter(bias[n].clone())] for n in range(3)]
    references = [torch.optim.Adam(params, lr=0.01 * s) for params, s in zip(alone, SCALES)]
    for x in inputs:
        optimizer.zero_grad()
        (torch.baddbmm(stacked[1].unsqueeze(1), x, stacked[0].transpose(1, 2)) ** 2).sum().backward()
        optimizer.step()
        for n, (params, reference) in enumerate(zip(alone, references)):
            reference.zero_grad()
            ((x[n] @ params[0].T + params[1]) ** 2).sum().backward()
            reference.step()
    for n, params in enumerate(alone):
        torch.testing.assert_close(stacked[0][n], params[0], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(stacked[1][n], params[1], rtol=1e-4, atol=1e-5)
    moved = [(stacked[0][n] - weight[n]).abs().mean().item() for n in range(3)]
    assert moved[0] < moved[1] < moved[2]  # a larger scale moves further


def test_a_parameter_without_the_member_axis_is_refused():
    with pytest.raises(ValueError, match="no leading member axis of 3"):
        MemberAdam([torch.nn.Parameter(torch.zeros(2, 5))], torch.tensor(SCALES))


def replayed_steps(device: str, backend) -> list[torch.Tensor]:
    """40 steps through StepGraphs (lr a device tensor, refreshed before each replay), warm-up 2."""
    weight, bias, inputs = stacked_problem()
    params = [torch.nn.Parameter(weight.clone().to(device)), torch.nn.Parameter(bias.clone().to(device))]
    lr = torch.tensor(0.01, device=device)
    optimizer = MemberAdam(params, torch.tensor(SCALES, device=device), lr=lr)

    def losses(x, labels, weights, active):
        loss = (torch.baddbmm(params[1].unsqueeze(1), x, params[0].transpose(1, 2)) ** 2).sum(
            (1, 2)
        ) * weights[0]
        return loss.detach()[None], loss.sum()

    graphs = StepGraphs(backend, losses, optimizer, lr, warmup=2)
    labels, term_weights = torch.zeros(3, 7, 1, device=device), torch.ones(1, 3, device=device)
    for step, x in enumerate(inputs):
        graphs(x.to(device), labels, term_weights, (), 0.01 if step < 20 else 0.005)
    return [p.detach().cpu() for p in params]


def eager_steps() -> list[torch.Tensor]:
    weight, bias, inputs = stacked_problem()
    params = [torch.nn.Parameter(weight.clone()), torch.nn.Parameter(bias.clone())]
    optimizer = MemberAdam(params, torch.tensor(SCALES), lr=0.01)
    for step, x in enumerate(inputs):
        optimizer.param_groups[0]["lr"] = 0.01 if step < 20 else 0.005
        optimizer.zero_grad()
        (torch.baddbmm(params[1].unsqueeze(1), x, params[0].transpose(1, 2)) ** 2).sum().backward()
        optimizer.step()
    return [p.detach() for p in params]


def test_replayed_steps_with_a_tensor_learning_rate_equal_eager_steps():
    for replayed, eager in zip(replayed_steps("cpu", EagerStandIn()), eager_steps()):
        torch.testing.assert_close(replayed, eager, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_captured_cuda_graphs_step_member_adam_as_eager_steps():
    from excolor.step_graphs import CudaGraphs

    for replayed, eager in zip(replayed_steps("cuda", CudaGraphs()), eager_steps()):
        torch.testing.assert_close(replayed, eager, rtol=1e-4, atol=1e-5)
