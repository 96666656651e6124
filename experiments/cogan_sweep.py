"""The CoGAN paper's weight-sharing sweep (its Figure 3): pixel agreement on the digit tasks
as a function of the number of shared generator and discriminator layers (25,000
iterations, batch 128, Adam 2e-4, non-saturating loss), on 10K pairs and averaged over
5 trials with different initialisations (paper Sec. 4): run with ``--seeds 0,1,2,3,4``.

At CPU scale the study runs one curve of the paper's figure, the digit discriminator's
default sharing (its last 3 blocks), for 1 to 5 shared generator blocks, 3 seeds:

    python -m scogan.experiments run "sweep/*/g?d3" --scale cpu --seeds 0,1,2
    python -m scogan.experiments plot cogan_sweep --scale cpu --out sharing_sweep.png

The generators are at width 0.25 and the discriminators at full width, as the default
run (at width 0.25 the digit D let the edge generator draw speckle; docs/networks.md),
with the paper's non-saturating objective, batch 32 and 1,000 iterations."""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import DCGAN, PAIRS_COGAN_PAPER

CPU_SWEEP = dict(width=0.25, d_width=1.0, batch_size=32, iterations=1000)

register_table("cogan_sweep", "CoGAN paper: pixel agreement vs shared layers",
               [("Pixel agreement", "pixel_agreement"), ("Shuffled pairs", "pixel_agreement_shuffled"),
                ("Stroke agreement", "stroke_agreement"),
                ("Stroke agreement, shuffled pairs", "stroke_agreement_shuffled")],
               note="Published numbers are only plotted in the paper (Figure 3), not tabulated; "
                    "the paper averages 5 trials (--seeds 0,1,2,3,4) of 10,000 pairs.")

for data in ("mnist2edge", "mnist2negative"):
    for g_shared in range(1, 6):
        for d_shared in range(0, 4):
            register(Preset(
                name=f"sweep/{data}/g{g_shared}d{d_shared}", table="cogan_sweep",
                column=f"{data} G{g_shared} D{d_shared}",
                options={**DCGAN, "gan_type": "cogan", "cogan_data": data, "weight_init": "xavier",
                         "weight_decay": 0.0005, "shared_layers": g_shared, "d_shared_layers": d_shared,
                         "iterations": 25000},
                full=dict(width=1.0, batch_size=128), cpu=CPU_SWEEP,
                metrics=("pixel_agreement",),
                pairs=PAIRS_COGAN_PAPER,
            ))
