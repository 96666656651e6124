"""Thesis Table 5.3: LPIPS on CelebSmiling (128x128, 35,000 iterations)."""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import CPU_FACES, FACES, FULL_FACES, LPIPS_ROWS, PAIRS_50K, scogan

TABLE = "table5_3"
register_table(TABLE, "Thesis Table 5.3: LPIPS on CelebSmiling", LPIPS_ROWS,
               note="Baseline in the thesis: 0.3955 (50,000 pairs). Only 579 CelebA images exist "
                    "here, so the CPU scale trains on that subset at 64x64.")

PUBLISHED = {
    "cogan": (0.0433, 0.3923, 0.3877), "slfr": (0.1294, 0.3875, 0.3921),
    "slcc": (0.1708, 0.3879, 0.3881), "pl": (0.0857, 0.3907, 0.3962),
}
COUPLING = {"cogan": dict(gan_type="cogan"), "slfr": scogan(sl=10.0, fr=100.0),
            "slcc": scogan(sl=10.0, cc=10.0), "pl": scogan(pl=True)}
# The multi-label CelebA classifier of thesis Table B.2 (13 attributes).
register(Preset(
    name=f"{TABLE}/classifier", table="", column="classifier",
    options=dict(gan_type="classifier", cogan_data="celeba", attribute="Smiling", classifier_domains="all"),
    full=dict(width=1.0, batch_size=64, image_size=128, iterations=30000),
    cpu=dict(width=0.25, batch_size=32, image_size=64, iterations=300),
    metrics=("classifier_accuracy",),
))
for column, coupling in COUPLING.items():
    g1g2, g1r1, g2r2 = PUBLISHED[column]
    register(Preset(
        name=f"{TABLE}/{column}", table=TABLE, column=column.upper() if column != "cogan" else "CoGAN",
        options=dict(cogan_data="celeba", attribute="Smiling", **FACES, **coupling, iterations=35000),
        full=FULL_FACES, cpu=CPU_FACES,
        published=dict(lpips_gen1_gen2=g1g2, lpips_gen1_real1=g1r1, lpips_gen2_real2=g2r2,
                       lpips_real1_real2=0.3955),
        classifier=f"{TABLE}/classifier" if "sl" in column else None,
        pairs=PAIRS_50K,
    ))
