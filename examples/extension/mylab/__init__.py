"""mylab: a researcher's own package extending excolor without forking it (one regularizer, one
intervention). Put its parent directory on PYTHONPATH and name it in `trusted_packages`:

    PYTHONPATH=examples/extension python -m excolor.train 'trusted_packages=[mylab]' \
        '+regularizers.sparse={_target_: mylab.Sparsity, column: reg-sparse, weight: 0.01}' \
        '+intervention.reflect={_target_: mylab.Reflection, concept: ${concept}}'
"""

from mylab.reflection import Reflection
from mylab.sparsity import Sparsity

__all__ = ["Reflection", "Sparsity"]
