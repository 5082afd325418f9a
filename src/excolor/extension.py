"""excolor's extension points, in one place for a package of your own to import.

- `Regularizer` (`excolor.regularizers.base`): a loss term on one layer's activations; implement
  `per_sample(z) -> [..., B]` (and `check_width(width)` for settings tied to the latent width). The
  base class handles the weight, the schedule column, label affinities and the batch reduction.
- `Intervention` (`excolor.interventions.base`): a rewrite of the latent rows at evaluation,
  `forward(z) -> z'` on [..., K]; optionally `dim` (the width it needs) and `cones()` (for plots).
- `Falloff` and `Mapper` (`excolor.interventions.base`): the elementwise curves the built-in
  interventions take (`Suppression(falloff=…)`, `Repulsion(mapper=…)`), with a knee `a`.
- `StackableModel` (`excolor.population_model`): what a population model provides to training,
  evaluation and the checkpoint (a Protocol). A model of your own built from `nn.Linear` and
  parameter-free modules is stacked for you (`StackedModel`: every nn.Linear becomes a stacked layer
  at its path); it keeps its constructor arguments in `config` and has `width` and `forward_with_latents`.

Name your package in the config's `trusted_packages` and your classes in `_target_`s; see the README
section "Extending excolor" and the worked example in `examples/extension/mylab`.
"""

from excolor.interventions.base import Cone, Falloff, Intervention, Mapper
from excolor.population_model import StackableModel
from excolor.regularizers.base import Regularizer

__all__ = ["Cone", "Falloff", "Intervention", "Mapper", "Regularizer", "StackableModel"]
