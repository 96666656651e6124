"""Using a trained run: the CoGAN paper's applications of a learnt joint distribution.

* ``sample``: N tuples of corresponding images, one latent vector z each
  (``write_samples``);
* ``interpolate``: latent walks between random z rendered in every domain, the paper's
  Fig. 4 (``write_latent_walks``);
* ``translate``: cross-domain transformation, the paper's Sec. 5 and Fig. 6: find the z
  whose image in one domain reconstructs a real image, then render that z in the other
  domains (``write_translations``).

Each reads a finished (or interrupted) run through ``load_trained_run``, which holds the
run's lock while it reads the checkpoint and refuses classifier runs, diverged runs and
generators that output NaN/Inf. Problems with the command line or the inputs raise
``InferenceError`` (``main`` prints it as one ``error:`` line, exit 2). Images are NHWC
float32 in [-1, 1] inside, uint8 in the files written.
"""

from __future__ import annotations

from scogan.inference.errors import InferenceError
from scogan.inference.interpolate import write_latent_walks
from scogan.inference.run import TrainedRun, load_trained_run
from scogan.inference.sample import write_samples
from scogan.inference.translate import write_translations

__all__ = ["InferenceError", "TrainedRun", "load_trained_run", "write_latent_walks", "write_samples",
           "write_translations"]
