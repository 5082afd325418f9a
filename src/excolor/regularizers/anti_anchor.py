from collections.abc import Sequence

from torch import Tensor

from excolor.regularizers.anchor import Anchor
from excolor.regularizers.angular_anchor import cosine


class AntiAnchor(Anchor):
    """Hemispherical anti-anchor (spec m2-family §1.6 `anti-anchor`, §15.4.4): loss_i = max(0, cos(z_i, p)),
    zero outside the hemisphere around the repelled direction p and growing toward p.

    Upstream builds it as AntiAnchor(−a) for the concept a; here `point` is the concept and
    `opposite: true` repels from −point, so the term is max(0, cos(z_i, −a)) = max(0, −ẑ_i0) for a = e0.
    """

    point: Tensor  # the repelled direction p (a buffer)

    def __init__(self, point: Sequence[float], opposite: bool = True, **kwargs):
        point = [float(x) for x in point]
        super().__init__(point=[-x for x in point] if opposite else point, **kwargs)
        self.opposite = bool(opposite)

    def per_sample(self, z: Tensor) -> Tensor:
        return cosine(z, self.point).clamp_min(0)
