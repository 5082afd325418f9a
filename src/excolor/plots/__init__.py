"""The three figures drawn for each run and each intervention of the color-autoencoder experiment.

* `plot_color_slices` (color_slices.py): true vs reconstructed colors on the "display cube"
  (HSV grid).
* `plot_error_by_color` (error_by_color.py): per-color reconstruction error (MSE) on the "loss
  cube", as line charts.
* `plot_latent_spheres` (latent_spheres.py): the unit-norm latents seen as points on a sphere,
  three 3-D views.
* `plot_population` (population.py): each metric's distribution over a population's members, or
  metric vs grid value (median and IQR band).

Pure numpy + matplotlib. Figures are built with `matplotlib.figure.Figure` (no pyplot, no global
state, Agg canvas), so this works headless and from several threads. Each function validates its
inputs (wrong shapes raise `ValueError` naming the argument), saves a PNG at 100 dpi, and returns
the output path as a `pathlib.Path`. Parent directories of the output path are created. What the
figures share (argument checks, colors, saving) is in _common.py.

Hues are fractions of a turn in [0, 1) (0 = red, 1/3 = green, 2/3 = blue); they are labelled in
degrees. Saturations and values are in [0, 1].
"""

from excolor.plots.color_slices import plot_color_slices
from excolor.plots.error_by_color import plot_error_by_color
from excolor.plots.latent_spheres import plot_latent_spheres
from excolor.plots.population import plot_population

__all__ = ["plot_color_slices", "plot_error_by_color", "plot_latent_spheres", "plot_population"]
