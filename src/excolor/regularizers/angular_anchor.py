from torch import Tensor

from excolor.regularizers.anchor import Anchor


def cosine(z: Tensor, point: Tensor) -> Tensor:
    """cos(z_i, a) = (z_i / (‖z_i‖ + 1e-8)) · (a / (‖a‖ + 1e-8)), per row of
    z [..., B, K] (spec m2-family §1.6)."""
    z_unit = z / (z.norm(dim=-1, keepdim=True) + 1e-8)
    a_unit = point / (point.norm() + 1e-8)
    return (z_unit * a_unit.to(z.dtype)).sum(-1)


class AngularAnchor(Anchor):
    """loss_i = 1 − cos(z_i, a) (spec m2-family §1.6 `anchor-angular`, §15.4.3): pulls labelled samples
    toward the direction of a, whatever their length. Used on the post-norm `bottleneck` from 2.8 on."""

    point: Tensor  # the anchor a (a buffer)

    def per_sample(self, z: Tensor) -> Tensor:
        return 1 - cosine(z, self.point)
