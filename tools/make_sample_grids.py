"""Short CPU runs, one per dataset family, whose final sample grids illustrate docs/datasets.md.

    python tools/make_sample_grids.py --data_dir DATA [--runs_dir runs/grids] [NAME ...]

Each run trains a CoGAN with ``main.py`` and the options listed in ``GRIDS`` (the task, and
the presets' CPU scale from ``experiments.common``), then copies ``RUN/samples/final.png`` to
``docs/images/<name>.png`` and records the options and wall time in
``docs/images/grids.json``. A finished run is not trained again. The ``folders`` grid reads
two folders of real CelebA faces (women, men) that this tool links from
``DATA/celeba`` by the ``Male`` attribute, to show the any-folders path on real images.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scogan.experiments import to_arguments  # noqa: E402
from scogan.experiments.common import CPU_DIGITS, CPU_FACES  # noqa: E402

# The CPU scale of the presets (faces: resize upsampling and no norm in D, see there). The
# digit grids of docs/datasets.md were made with the DCGAN objective (one D update per step),
# the presets' CPU objective until the collapse diagnosis moved them to WGAN-GP; these CoGAN
# grids keep it, which is 5x cheaper and kept CoGAN's variety.
DIGITS = to_arguments({**CPU_DIGITS, "loss": "ce", "penalty": "none", "disc_iters": 1})
FACES = to_arguments(CPU_FACES)
# name -> main.py options (besides --data_dir and --dir).
GRIDS: dict[str, list[str]] = {
    "mnist2edge": ["--cogan_data", "mnist2edge", *DIGITS],
    "mnist2negative": ["--cogan_data", "mnist2negative", *DIGITS],
    "mnist2rotate": ["--cogan_data", "mnist2rotate", "--g_arch", "rotate", "--d_arch", "rotate", *DIGITS],
    "mnist2edge2negative": ["--cogan_data", "mnist2edge2negative", *DIGITS],
    "mnist2mnistm": ["--cogan_data", "mnist2mnistm", *DIGITS],
    "mnist2usps": ["--cogan_data", "mnist2usps", *DIGITS],
    "celeba": ["--cogan_data", "celeba", "--attribute", "Smiling", *FACES],
    "folders": ["--cogan_data", "folders", "--domain_dirs", "{folders}/female", "{folders}/male", *FACES],
}


def link_faces_by_sex(data_dir: Path, target: Path) -> Path:
    """Symlink CelebA's aligned faces into target/female and target/male (attribute Male)."""
    from scogan.data.celeba import ATTRIBUTES, read_attributes

    names, values = read_attributes(data_dir / "celeba" / "list_attr_celeba.txt")
    column = ATTRIBUTES.index("Male")
    images = data_dir / "celeba" / "img_align_celeba"
    for sub in ("female", "male"):
        (target / sub).mkdir(parents=True, exist_ok=True)
    for name, row in zip(names, values):
        source = images / name
        link = target / ("male" if row[column] > 0 else "female") / name
        if source.exists() and not link.exists():
            link.symlink_to(source.resolve())
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"grids to make (default all): {', '.join(GRIDS)}")
    parser.add_argument("--data_dir", required=True, help="folder with the raw datasets (mnist/, usps/, celeba/)")
    parser.add_argument("--runs_dir", default="runs/grids", help="where the runs are kept")
    args = parser.parse_args(argv)
    from scogan import main as cli

    unknown = sorted(set(args.names) - set(GRIDS))
    if unknown:
        parser.error(f"unknown grid(s) {', '.join(unknown)}; valid choices: {', '.join(GRIDS)}")
    runs_dir, images = Path(args.runs_dir), ROOT / "docs" / "images"
    record_path = images / "grids.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    folders = link_faces_by_sex(Path(args.data_dir), runs_dir / "folders_data")
    for name in args.names or list(GRIDS):
        options = [o.format(folders=folders) for o in GRIDS[name]]
        run_dir = runs_dir / name
        began = time.time()
        if not (run_dir / "samples" / "final.png").exists():
            resume = ["--resume"] if (run_dir / "config.json").exists() else []
            code = cli.main([*options, "--data_dir", args.data_dir, "--dir", str(run_dir), *resume])
            if code:
                raise SystemExit(f"{name}: training failed (exit {code})")
            record[name] = {"options": GRIDS[name], "train_seconds": round(time.time() - began)}
        shutil.copyfile(run_dir / "samples" / "final.png", images / f"{name}.png")
        record_path.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
