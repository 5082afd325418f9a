"""The re-runs' label counters over seeds, from our data pipeline alone (no training): the README's
"Label counts of the re-runs" table (spec m2-family §1.5, §15.8).

    PYTHONPATH=src python scripts/chapter_label_counts.py [n_seeds]

For each re-run, each seed's `LatticeBatches` stream runs through the run's 1,501 steps; a label counts
on the steps where its experiment's schedule gives a non-zero weight to a regularizer that reads it.
Prints mean ± sd over seeds of `labels/n/<label>` and the distinct `labels/n_total` values.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from hydra.utils import instantiate
from omegaconf import OmegaConf

import excolor.config
from excolor.console import trusted_targets
from excolor.data import ContinuousBatches
from excolor.labels import TOTAL, LabelCounter, active_labels

CONF = excolor.config.CONF_DIR
# Each re-run's training labels (spec §9–§13): red-B from conf/data/rgb_lattice.yaml, plus vibrant-B in
# 2.4.1; 2.7.1 has vibrant-C only.
LABELS = {
    "2.4.1": {"red": {"alpha": 0.08, "k": 8}, "vibrant": {"alpha": 0.01, "k": 10}},
    "2.5.1": {"red": {"alpha": 0.08, "k": 8}},
    "2.7.1": {"vibrant": {"alpha": 0.008, "k": 8}},
    "2.9.1": {"red": {"alpha": 0.08, "k": 8}},
    "2.10.1": {"red": {"alpha": 0.08, "k": 8}},
}


def counts(experiment: str, seeds: int) -> list[dict[str, int]]:
    regularizers = OmegaConf.load(CONF / "regularizers" / f"ex{experiment}.yaml")
    schedule = instantiate(OmegaConf.load(CONF / "schedule" / f"ex{experiment}.yaml"))
    readers = [(dict(r.get("label_affinities") or {}), schedule[r.column]) for r in regularizers.values()]
    rows = []
    for seed in range(seeds):
        cfg = OmegaConf.load(CONF / "data" / "rgb_lattice.yaml")
        cfg.seed, cfg.labels, cfg.validation_labels = seed, LABELS[experiment], []
        data = instantiate(cfg)
        counter = LabelCounter(data.label_names)
        for step, (_, labels) in enumerate(ContinuousBatches(data, len(schedule))):
            counter.update(labels, active_labels(data.label_names, [(a, w[step]) for a, w in readers]))
        rows.append(counter.metrics()[0])
    return rows


def main(seeds: int) -> None:
    for experiment in LABELS:
        start = time.perf_counter()
        rows = counts(experiment, seeds)
        cells = [
            f"{key.rsplit('/', 1)[-1]} {np.mean([r[key] for r in rows]):.2f} ± "
            f"{np.std([r[key] for r in rows], ddof=1):.2f}"
            for key in rows[0]
            if key != TOTAL
        ]
        totals = sorted({r[TOTAL] for r in rows})
        print(f"{experiment}: n_total {totals} · {' · '.join(cells)} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    with trusted_targets():
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
