"""excolor's SLURM launcher (``hydra/launcher: slurm``): Hydra's submitit launcher, quiet and fault-aware."""
