"""Thesis Table 5.1: LPIPS on MNIST2edge for CoGAN and SCoGAN-FR/SL/CC/PL (20,000 iterations)."""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import (
    CPU_DIGITS,
    DIGITS,
    FULL_DIGITS,
    LPIPS_ROWS,
    PAIRS_TABLE5_1,
    PRECISION_RECALL_ROWS,
    scogan,
)

TABLE = "table5_1"
register_table(TABLE, "Thesis Table 5.1: LPIPS distances on MNIST2edge", LPIPS_ROWS + [
    ("Pixel agreement", "pixel_agreement"), ("Pixel agreement, shuffled pairs", "pixel_agreement_shuffled"),
    ("Stroke agreement", "stroke_agreement"), ("Stroke agreement, shuffled pairs", "stroke_agreement_shuffled"),
    *PRECISION_RECALL_ROWS],
    note="Baseline real MNIST vs real edge in the thesis: 0.1627 (30,000 pairs). Ceiling of precision / "
         "recall (3,000 real test against 3,000 real training images, VGG16; `python -m scogan.experiments "
         "baseline mnist2edge --num_pairs 3000`): MNIST 0.86 / 0.86, MNISTedge 0.85 / 0.88.")

PUBLISHED = {
    "cogan": (0.1026, 0.1157, 0.1157), "fr": (0.1227, 0.1217, 0.1429), "sl": (0.1039, 0.1141, 0.1100),
    "cc": (0.1092, 0.1148, 0.1092), "pl": (0.1019, 0.1110, 0.1064),
}
COUPLING = {
    "cogan": dict(gan_type="cogan"), "fr": scogan(fr=10.0), "sl": scogan(sl=10.0),
    "cc": scogan(cc=10.0), "pl": scogan(pl=True),
}
# The digit classifier of the semantic loss (thesis Table B.1), trained on MNIST.
register(Preset(
    name=f"{TABLE}/classifier", table="", column="classifier",
    options=dict(gan_type="classifier", cogan_data="mnist2edge", classifier_domains="1"),
    full=dict(width=1.0, batch_size=128, iterations=5000), cpu=dict(width=0.5, batch_size=64, iterations=600),
    metrics=("classifier_accuracy",),
))
for column, coupling in COUPLING.items():
    g1g2, g1r1, g2r2 = PUBLISHED[column]
    register(Preset(
        name=f"{TABLE}/{column}", table=TABLE, column=column.upper() if column != "cogan" else "CoGAN",
        options=dict(cogan_data="mnist2edge", **DIGITS, **coupling, iterations=20000),
        full=FULL_DIGITS, cpu=CPU_DIGITS,
        metrics=("lpips", "pixel_agreement", "precision_recall"),
        published=dict(lpips_gen1_gen2=g1g2, lpips_gen1_real1=g1r1, lpips_gen2_real2=g2r2,
                       lpips_real1_real2=0.1627),
        classifier=f"{TABLE}/classifier" if column == "sl" else None,
        pairs=PAIRS_TABLE5_1,
    ))
