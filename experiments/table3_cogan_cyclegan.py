"""Thesis Tables 3.3-3.8: CoGAN on horse2zebra and apple2orange (Sec. 3.3).

3.3/3.4: 256x256, DCGAN settings, 35,000 iterations; 3.5/3.6: 128x128, same settings;
3.7/3.8: 128x128 with WGAN-GP (LayerNorm discriminators), 25,000 iterations. The thesis
reports a 2x2 grid (generated domain i vs real domain j); the metrics here give its
diagonal (lpips_gen1_real1, lpips_gen2_real2) and the gen-vs-gen distance.
"""

from experiments import Preset, register, register_table
from experiments.common import CPU_FACES, DCGAN, FACES, FULL_FACES, LPIPS_ROWS

register_table("table3", "Thesis Tables 3.3-3.8: CoGAN on the CycleGAN pairs", LPIPS_ROWS,
               note="Published: diagonal of each 2x2 table (generated vs real of the same domain).")

RUNS = {
    # table: (dataset, image size, settings, iterations, published gen1-real1, gen2-real2)
    "3.3": ("horse2zebra", 256, DCGAN, 35000, 0.7792, 0.7546),
    "3.4": ("apple2orange", 256, DCGAN, 35000, 0.8388, 0.8944),
    "3.5": ("horse2zebra", 128, DCGAN, 35000, 0.8906, 0.7024),
    "3.6": ("apple2orange", 128, DCGAN, 35000, 0.7345, 0.7169),
    "3.7": ("horse2zebra", 128, FACES, 25000, 0.6676, 0.6824),
    "3.8": ("apple2orange", 128, FACES, 25000, 0.6931, 0.6968),
}
for table, (data, size, settings, iterations, g1r1, g2r2) in RUNS.items():
    register(Preset(
        name=f"table{table}", table="table3", column=f"Table {table}",
        options={**settings, "gan_type": "cogan", "cogan_data": data, "iterations": iterations},
        full={**FULL_FACES, "image_size": size}, cpu=CPU_FACES,
        published=dict(lpips_gen1_real1=g1r1, lpips_gen2_real2=g2r2),
    ))
