"""Thesis Table 5.4: LPIPS on apple2orange and horse2zebra at 128x128 (20,000 iterations).

The CycleGAN images cannot be obtained here: these presets are provided for users who
have them (tfds ``cycle_gan/...`` or the official trainA/trainB folders).
"""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import (
    CPU_FACES,
    FACES,
    FULL_FACES,
    LPIPS_ROWS,
    PAIRS_CYCLEGAN,
    scogan,
)

TABLE = "table5_4"
register_table(TABLE, "Thesis Table 5.4: LPIPS on apple2orange (a2o) and horse2zebra (h2z)", LPIPS_ROWS,
               note="Baselines in the thesis: h2z 0.7062 (1,000 pairs), a2o 0.7013 (995 pairs).")

PUBLISHED = {
    ("apple2orange", "cogan"): (0.6081, 0.6939, 0.7021), ("apple2orange", "pl"): (0.5774, 0.7361, 0.7339),
    ("horse2zebra", "cogan"): (0.6238, 0.6691, 0.6844), ("horse2zebra", "pl"): (0.6163, 0.6715, 0.6900),
}
BASELINE = {"apple2orange": 0.7013, "horse2zebra": 0.7062}
for (data, column), (g1g2, g1r1, g2r2) in PUBLISHED.items():
    short = "a2o" if data == "apple2orange" else "h2z"
    coupling = dict(gan_type="cogan") if column == "cogan" else scogan(pl=True)
    register(Preset(
        name=f"{TABLE}/{column}_{short}", table=TABLE,
        column=f"{'CoGAN' if column == 'cogan' else 'PL'}({short})",
        options=dict(cogan_data=data, **FACES, **coupling, iterations=20000),
        full=FULL_FACES, cpu=CPU_FACES,
        published=dict(lpips_gen1_gen2=g1g2, lpips_gen1_real1=g1r1, lpips_gen2_real2=g2r2,
                       lpips_real1_real2=BASELINE[data]),
        pairs=PAIRS_CYCLEGAN[data],
    ))
