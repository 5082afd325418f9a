"""What every regularizer shares: a weight multiplier, label and layer affinities, the batch reduction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from excolor.errors import ConfigError
from excolor.layers import ENCODER, check_layer
from excolor.metrics import PHASES, TRAIN_PHASE, TRAIN_VALIDATE_PHASE
from excolor.validation import check_number


class Regularizer(nn.Module, ABC):
    """The extension point of the regularizer group: a per-sample loss term reduced over the batch.
    A subclass implements `per_sample` (and, if it has settings tied to the latent width,
    `check_width`).

    Without label affinities the term is the batch mean. With them each sample gets
    `w_i = clamp(Σ_labels affinity · label_i, 0, 1)` and the term is `Σ w_i loss_i / (Σ w_i + 1e-8)`.

    `weight` multiplies the scheduled weight; `column` names the dopesheet column that schedules it;
    `layer` is the activation it reads (`encoder`: before normalisation, `bottleneck`: after);
    `phase` is `train` or `train+validate` (also logged on the validation set as `val/<name>`).

    In a population whose grid varies one of its settings (`power`, a label affinity, …), members
    compute their term with their own instance of the class (`set_member_variants`): the term of
    member m is `variants[v_m]`'s on member m's rows, and this instance only carries the weight,
    schedule column, layer and phase they share.
    """

    grouped_members: Tensor  # buffers of a regularizer with member variants (set_member_variants)
    member_order: Tensor

    def __init__(
        self,
        column: str,
        weight: float = 1.0,
        label_affinities: Mapping[str, float] | None = None,
        layer: str = ENCODER,
        phase: str = TRAIN_PHASE,
    ):
        super().__init__()
        check_number("weight", weight, minimum=0)
        check_layer("layer", layer)
        if phase not in PHASES:
            raise ConfigError(f"phase={phase!r} must be one of {', '.join(PHASES)}")
        self.phase = phase
        self.column = column
        self.weight = float(weight)
        self.label_affinities = dict(label_affinities or {})
        self.layer = layer
        self.register_buffer("affinity", torch.zeros(0), persistent=False)
        # float64 so that schedule value × multiplier rounds once, as weight × schedule did for one model.
        self.register_buffer(
            "member_weights", torch.tensor([self.weight], dtype=torch.float64), persistent=False
        )
        self.variants: nn.ModuleList | None = None
        self.variant_of: list[int] = []
        self.group_sizes: list[int] = []

    def bind_labels(self, label_names: Sequence[str]) -> None:
        """Turn the affinity mapping into a vector over the data's label columns."""
        unknown = set(self.label_affinities) - set(label_names)
        if unknown:
            raise ConfigError(
                f"label_affinities names unknown label(s) {sorted(unknown)} "
                f"(the data provides {list(label_names)})"
            )
        self.affinity = torch.tensor([float(self.label_affinities.get(n, 0.0)) for n in label_names])

    @property
    def validates(self) -> bool:
        """Whether the term is also evaluated on the validation set (phase `train+validate`)."""
        return self.phase == TRAIN_VALIDATE_PHASE

    def schedule_column(self, schedule) -> list[float]:
        """The schedule's column, per step; a regularizer no column drives runs at 1 × its weight."""
        if self.column in schedule.values:
            return schedule[self.column].tolist()
        return [1.0] * len(schedule)

    def scheduled_weights(self, schedule) -> list[float]:
        """weight × the schedule's column, per step (for one model; a population multiplies the column
        by `member_weights`)."""
        return [self.weight * w for w in self.schedule_column(schedule)]

    def set_member_weights(self, weights: list[float]) -> None:
        """One multiplier per population member (a grid over `weight`); by default every member has `weight`."""
        self.member_weights = torch.tensor(weights, dtype=torch.float64, device=self.member_weights.device)

    def set_member_variants(self, variants: Sequence[Regularizer], variant_of: Sequence[int]) -> None:
        """Member m's term comes from `variants[variant_of[m]]` (the same class, built with member m's
        settings); the members of one variant are computed together, in one call."""
        self.variants = nn.ModuleList(variants)
        self.variant_of = list(variant_of)
        # the members variant by variant, each variant's in member order
        grouped = sorted(range(len(variant_of)), key=lambda m: (variant_of[m], m))
        self.group_sizes = [variant_of.count(position) for position in range(len(variants))]
        self.register_buffer("grouped_members", torch.tensor(grouped), persistent=False)
        # the inverse permutation: puts the variants' concatenated terms back in member order
        self.register_buffer(
            "member_order",
            torch.tensor(sorted(range(len(grouped)), key=grouped.__getitem__)),
            persistent=False,
        )

    def member_affinities(self, members: int) -> list[dict[str, float]]:
        """Each member's label affinities (its variant's, or this instance's for all)."""
        if self.variants is None:
            return [self.label_affinities] * members
        return [self._variant(v).label_affinities for v in self.variant_of]

    def _variant(self, position: int) -> Regularizer:
        assert self.variants is not None
        variant = self.variants[position]
        assert isinstance(variant, Regularizer)
        return variant

    @abstractmethod
    def per_sample(self, z: Tensor) -> Tensor:
        """Loss of each row of z [..., B, K]: shape [..., B]."""

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        """The term per member: z [..., B, K] and labels [..., B, n_labels] give [...] (a scalar for one
        model); the batch reduction never crosses the leading member axis."""
        if self.variants is None:
            return self.term(z, labels)
        zs = z.index_select(0, self.grouped_members).split(self.group_sizes)
        ys = labels.index_select(0, self.grouped_members).split(self.group_sizes)
        terms = [self._variant(position).term(z_v, y_v) for position, (z_v, y_v) in enumerate(zip(zs, ys))]
        return torch.cat(terms).index_select(0, self.member_order)

    def term(self, z: Tensor, labels: Tensor) -> Tensor:
        """This instance's term (its own settings) for every member of z."""
        loss = self.per_sample(z)
        if not self.label_affinities:
            return loss.mean(-1)
        w = (labels @ self.affinity).clamp(0, 1)
        return (w * loss).sum(-1) / (w.sum(-1) + 1e-8)

    def check_width(self, width: int) -> None:
        """Reject settings that don't fit a bottleneck of `width` dims (none here; see subclasses)."""
