"""Settings the thesis states once and reuses across tables."""

from __future__ import annotations

# Thesis Sec. 5.1: digit experiments, mirroring the CoGAN PyTorch code; WGAN-GP (lambda 10)
# with 5 critic iterations and DCGAN Adam settings; Xavier init; uniform z; decay 0.0005.
DIGITS = dict(loss="wgan", penalty="wgan-gp", penalty_weight_d=10.0, disc_iters=5, lr_d=2e-4,
              lr_g=2e-4, b1=0.5, b2=0.999, weight_init="xavier", weight_decay=0.0005,
              noise_type="uniform", noise_dim=100, g_arch="digit", d_arch="digit")
# Thesis Sec. 5.3: CelebA / CycleGAN at 128x128; N(0, 0.02) init, decay 0.0001, uniform z,
# WGAN-GP with its paper's hyperparameters (Adam 1e-4, beta (0, 0.9), 5 critic steps).
FACES = dict(loss="wgan", penalty="wgan-gp", penalty_weight_d=10.0, disc_iters=5, lr_d=1e-4,
             lr_g=1e-4, b1=0.0, b2=0.9, weight_init="normal", weight_decay=0.0001,
             noise_type="uniform", noise_dim=100)
# Thesis Sec. 3.3: CoGAN with the DCGAN settings (non-saturating loss, Adam 2e-4, 0.5).
DCGAN = dict(loss="ce", penalty="none", disc_iters=1, lr_d=2e-4, lr_g=2e-4, b1=0.5, b2=0.999,
             weight_init="normal")

FULL_DIGITS = dict(width=1.0, batch_size=128)
# CPU scale (2 cores, docs/RESULTS.md): quarter-width nets (generators and discriminators),
# batch 32, 1,000 iterations, and the thesis' own objective, WGAN-GP with 5 critic updates
# (DIGITS), for every column alike. Chosen by the collapse diagnosis (experiments/
# collapse_scan.py, docs/COLLAPSE_SCAN.md): under the DCGAN objective the unshared SCoGAN
# generators lost their digit variety at D width 0.25 (none, FR and SL collapsed at seed 0)
# and FR/SL came near it at D width 1.0, while WGAN-GP at D width 0.25 kept it in every
# column and seed measured. It costs ~8-12 min per run here instead of 3-6.
CPU_DIGITS = dict(width=0.25, d_width=0.25, batch_size=32, iterations=1000)
FULL_FACES = dict(width=1.0, batch_size=64, image_size=128)
# Faces at CPU scale also upsample by resize-then-convolve and drop D's normalisation
# (measured at width 0.125: transposed convolutions stayed on a checkerboard, and BatchNorm
# in D left colour blobs after 600 iterations; docs/datasets.md, Sample grids).
CPU_FACES = dict(width=0.125, batch_size=16, image_size=64, iterations=600, upsample="resize", disc_norm="none")

# Generated pairs per metric at full scale, as the thesis measured (Sec. 5.1: 30,000, "the
# total size of MNISTedge"; Sec. 5.2 and 5.3: 50,000; Sec. 3.3.1 and 5.4: 1,000 on
# horse2zebra, 995 on apple2orange, the size of its smaller training domain) and the CoGAN
# paper (Sec. 4: 10K pairs, averaged over 5 trials).
PAIRS_TABLE5_1 = {"full": 30000}
PAIRS_50K = {"full": 50000}
PAIRS_CYCLEGAN = {"horse2zebra": {"full": 1000}, "apple2orange": {"full": 995}}
PAIRS_COGAN_PAPER = {"full": 10000}

# Precision and recall (Kynkaenniemi et al. 2019, k = 3) per domain, on VGG16 features: recall
# near 0 is what a collapsed generator looks like (experiments.__main__.collapse_check).
PRECISION_RECALL_ROWS = [
    ("Precision, G1 (VGG16)", "precision/1"), ("Recall, G1 (VGG16)", "recall/1"),
    ("Precision, G2 (VGG16)", "precision/2"), ("Recall, G2 (VGG16)", "recall/2"),
]

LPIPS_ROWS = [
    ("Gen. domain 1 vs Gen. domain 2", "lpips_gen1_gen2"),
    ("Gen. domain 1 vs Real domain 1", "lpips_gen1_real1"),
    ("Gen. domain 2 vs Real domain 2", "lpips_gen2_real2"),
    ("Real domain 1 vs Real domain 2 (baseline)", "lpips_real1_real2"),
]

# SCoGAN couplings as thesis columns (weights from Sec. 4.1 and Ch. 5).
def scogan(fr: float | None = None, sl: float | None = None, cc: float | None = None,
           pl: bool = False, k: int = 3) -> dict[str, object]:
    # Nothing is shared, generators nor discriminators (Tables 3.1/3.2, A.1/A.2 "without any
    # shared layers", thesis Sec. 4.1, 5.1, 5.3): --gan_type scogan's default
    # (utils.config.GAN_TYPE_DEFAULTS, --d_shared_layers 0).
    options: dict[str, object] = dict(gan_type="scogan")
    if fr is not None:
        options.update(gen_penalty="feature", shared_layers=k, penalty_weight_g=fr)
    if sl is not None:
        options.update(semantic_loss=True, semantic_weight=sl)
    if cc is not None:
        options.update(use_cycle=True, cycle_weight=cc)
    if pl:
        # The weights are this framework's defaults: the thesis' 1e-3 / 1e-11 are for Keras'
        # VGG19 on 0-255 inputs and do not transfer to the VGG16 here (see utils.config).
        options.update(perceptual_loss=True)
    return options
