"""What the suite's smoke runs add to their overrides: they check wiring, not the seed's numbers."""

# 24 × 12 × 12 = 3,456 loss-cube colors instead of the seed's 552,960: evaluation ~2 % of its cost.
SMOKE_CUBE = "evaluation.loss_cube=[24,12,12]"
