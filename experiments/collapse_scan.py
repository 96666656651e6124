"""The collapse diagnosis on the noisy digit pair (the reproduction issue, part 4).

At CPU scale every SCoGAN column with the semantic loss collapsed to about one digit
class. One seed of a first look pointed at the quarter-width discriminator under the
DCGAN objective rather than at the coupling. This table scans the settings that lead
named, on ``mnist2mnistm`` with nothing shared (SCoGAN as the thesis ran it):

    coupling  none (the uncoupled SCoGAN), FR alone (alpha 100), SL alone (weight 10)
    objective DCGAN (non-saturating, 1 critic update) or the thesis' WGAN-GP
              (lambda 10, 5 critic updates)
    D width   0.25 or 1.0 (generators at 0.25, batch 32, 1,000 iterations)

and reports pair class agreement, its shuffled score and each domain's label entropy, by
which a collapsed column is flagged. Full scale is the same grid at the thesis' size on
MNIST2SVHN.
"""

from scogan.experiments import Preset, register, register_table
from scogan.experiments.common import CPU_DIGITS, DIGITS, FULL_DIGITS, scogan

TABLE = "collapse_scan"
register_table(TABLE, "Collapse diagnosis: SCoGAN couplings by objective and discriminator width", [
    ("Pair class agreement", "pair_class_agreement"),
    ("Pair class agreement, shuffled pairs", "pair_class_agreement_shuffled"),
    ("Label entropy of G1 (bits, max 3.32)", "pair_class_entropy/1"),
    ("Label entropy of G2 (bits, max 3.32)", "pair_class_entropy/2")],
    note="SCoGAN with no layer shared between the domains' generators or discriminators; the "
         "classifier is Table 5.2's (B.1 on both domains).")

COUPLINGS = {"none": scogan(), "fr": scogan(fr=100.0), "sl": scogan(sl=10.0)}
OBJECTIVES = {
    "dcgan": dict(loss="ce", penalty="none", disc_iters=1),
    "wgangp": dict(loss="wgan", penalty="wgan-gp", penalty_weight_d=10.0, disc_iters=5),
}
D_WIDTHS = {"d025": 0.25, "d1": 1.0}

for coupling, coupling_options in COUPLINGS.items():
    for objective, objective_options in OBJECTIVES.items():
        for d_name, d_width in D_WIDTHS.items():
            register(Preset(
                name=f"{TABLE}/{coupling}/{objective}/{d_name}", table=TABLE,
                column=f"{coupling.upper() if coupling != 'none' else 'none'} {objective} D{d_width:g}",
                options=dict(**DIGITS, **coupling_options, d_shared_layers=0, iterations=25000),
                full={**FULL_DIGITS, "cogan_data": "mnist2svhn", **objective_options, "d_width": d_width},
                cpu={**CPU_DIGITS, "cogan_data": "mnist2mnistm", **objective_options, "d_width": d_width},
                metrics=("pair_class_agreement",),
                classifier="table5_2/classifier",
            ))
