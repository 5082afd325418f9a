"""Vulture's whitelist: code that nothing in src/ calls by name, because a framework reaches it.

Format (vulture's own): one bare attribute access on `_` per name, which vulture then counts as used.
Anything that is neither here nor used in src/ is dead code, also when a test uses it. Keep the reason
beside each entry; remove an entry when its code goes.
"""

# Hydra `_target_`s: instantiated from YAML only.
_.QuietWandbLogger  # conf/logger/wandb.yaml
_.progress_bar  # conf/callbacks/default.yaml
_.ReportingBasicSweeper  # conf/hydra/sweep_common/default.yaml
_.ResumableOptunaSweeper  # sweeps/falloff.yaml, sweeps/h1.yaml

# torch.nn.Module hooks: called by Module.__call__ and Module.__repr__.
_.forward
_.extra_repr

# Lightning hooks and switches, called or read by the Trainer.
_.automatic_optimization  # module.AutoencoderModule: manual optimisation
_.configure_optimizers
_.training_step
_.on_train_start
_.on_train_end
_.on_train_batch_end
_.on_save_checkpoint
_.batch_idx  # an argument of the hook signatures above
_.disable  # progress bar hooks (lightning.pytorch.callbacks.ProgressBar)
_.enable

# Context-manager protocol argument (_ownership.Heartbeat.__exit__).
_.exc

# numpy: `array.flags.writeable = False` (schedule.py) is an attribute assignment numpy acts on.
_.writeable

# report.result dataclass fields: written to summary.json (report.result.to_summary), read by its users.
_.mean_seconds
_.treatment_trials
_.control_trials
_.n_treatment
_.n_control

# Reached by name from outside the import graph.
_.train_plain_population  # bench.py runs it by name in a fresh `python -c` subprocess (plain_population_seconds)
_.num  # hydra_plugins/excolor_slurm/launcher.py: sets `hydra.job.num`, which Hydra reads for the job
_.stamp  # targets._parse: the file's (mtime, size), an argument only so lru_cache keys on it

# Used by tests, on purpose outside src/.
_.DISPATCH  # run_record: the dispatch metric keys, checked by tests/test_reproducible.py; named in reproducible.py
_.EagerStandIn  # step_graphs: the CPU stand-in for CUDA graphs that tests/test_step_graphs.py trains through

# issue 18: tested components wired next round (tested, documented in the README; not yet called from src/).
_.LabelCounter  # labels.py
_.active_labels  # labels.py
_.val_check_interval  # lattice.py
_.batch_sizes  # lattice.py
_.epoch_mean  # lattice.py
_.LatticeBatches  # lattice.py
_.validation  # lattice.py
_.named_colors  # named_colors.py
_.named_color_table  # named_colors.py
_.format_table  # named_colors.py
_.score_plan  # plans.py
_.correlation  # scores.py
_.SimilarityScore  # scores.py
_.VibrancyScore  # scores.py
_.pareto_front  # selection.py
_.best_member  # selection.py
_.ablate  # surgery.py
_.prune  # surgery.py
_.AxisAlignedSuppression  # interventions/axis_suppression.py
