"""A custom search space for excolor's Optuna sweeper, from a package of one's own:

    PYTHONPATH=examples/extension python -m excolor.train -m sweep=h1 'trusted_packages=[mylab]' \
        hydra.sweeper.custom_search_space=mylab.search.anchor_near_unit
"""

from typing import Any


def anchor_near_unit(cfg: Any, trial: Any) -> None:
    """Search the anchor's weight multiplier within [w/2, 2w] (log scale) around the unitarity weight
    multiplier w that the trial drew: `regularizers.anchor.weight` joins the trial's parameters."""
    del cfg  # the sweep's config: this space does not depend on it
    unit = trial.params["regularizers.unit.weight"]
    trial.suggest_float("regularizers.anchor.weight", unit / 2, unit * 2, log=True)
