"""excolor's Hydra plugin: a resumable Optuna sweeper (Hydra only loads plugins from hydra_plugins)."""
