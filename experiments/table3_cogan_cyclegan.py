"""Thesis Tables 3.3-3.8: CoGAN on horse2zebra and apple2orange (Sec. 3.3).

3.3/3.4: 256x256, DCGAN settings, 35,000 iterations; 3.5/3.6: 128x128, same settings;
3.7/3.8: 128x128 with WGAN-GP (LayerNorm discriminators), 25,000 iterations. Each thesis
table is a 2x2 grid, rows "Gen. horses / Gen. zebras" (apples / oranges), columns "Real
horses / Real zebras": generated domain i vs real domain j, all four cells published (the
off-diagonal ones as lpips_gen1_real2 and lpips_gen2_real1). The gen-vs-gen distance and
the real-vs-real baseline are measured beside them (the thesis gives neither for these).
Pairs: 1,000 ("each generated and real set consists of 1000 samples", Sec. 3.3.1) on
horse2zebra, 995 on apple2orange (its smaller domain, as Table 5.4).
"""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import (
    CPU_FACES,
    DCGAN,
    FACES,
    FULL_FACES,
    LPIPS_ROWS,
    PAIRS_CYCLEGAN,
)

# The thesis' 2x2 grid in its reading order, then the two distances it does not report.
GRID_ROWS = [
    ("Gen. domain 1 vs Real domain 1", "lpips_gen1_real1"),
    ("Gen. domain 1 vs Real domain 2", "lpips_gen1_real2"),
    ("Gen. domain 2 vs Real domain 1", "lpips_gen2_real1"),
    ("Gen. domain 2 vs Real domain 2", "lpips_gen2_real2"),
]
register_table("table3", "Thesis Tables 3.3-3.8: CoGAN on the CycleGAN pairs",
               GRID_ROWS + [row for row in LPIPS_ROWS if row not in GRID_ROWS],
               note="Published: all four cells of each 2x2 table (generated domain i vs real domain j; "
                    "domain 1 = horses / apples).")

RUNS = {
    # table: (dataset, image size, settings, iterations,
    #         published gen1-real1, gen1-real2, gen2-real1, gen2-real2)
    "3.3": ("horse2zebra", 256, DCGAN, 35000, 0.7792, 0.8185, 0.7728, 0.7546),
    "3.4": ("apple2orange", 256, DCGAN, 35000, 0.8388, 0.8693, 0.9005, 0.8944),
    "3.5": ("horse2zebra", 128, DCGAN, 35000, 0.8906, 0.9594, 0.6923, 0.7024),
    "3.6": ("apple2orange", 128, DCGAN, 35000, 0.7345, 0.7756, 0.7402, 0.7169),
    "3.7": ("horse2zebra", 128, FACES, 25000, 0.6676, 0.7472, 0.7101, 0.6824),
    "3.8": ("apple2orange", 128, FACES, 25000, 0.6931, 0.7414, 0.7069, 0.6968),
}
for table, (data, size, settings, iterations, g1r1, g1r2, g2r1, g2r2) in RUNS.items():
    register(Preset(
        name=f"table{table}", table="table3", column=f"Table {table}",
        options={**settings, "gan_type": "cogan", "cogan_data": data, "iterations": iterations},
        full={**FULL_FACES, "image_size": size}, cpu=CPU_FACES,
        published=dict(lpips_gen1_real1=g1r1, lpips_gen1_real2=g1r2, lpips_gen2_real1=g2r1,
                       lpips_gen2_real2=g2r2),
        pairs=PAIRS_CYCLEGAN[data],
    ))
