"""CoGAN unsupervised domain adaptation (``--gan_type uda``, CoGAN paper Sec. 5).

Loss values by hand; the classifier head reuses the discriminators' weights; the paper's
training sample; no path from the target domain's training labels to a step (the step's
inputs, and bit-identical training with poisoned target labels); the metrics' keys and
ranges through ``main.py --mode evaluate``; clear errors for tasks that cannot work; and
a short real MNIST->USPS run against the source-only baseline.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from scogan import main
from scogan.data import DataOptions, Domain, Task, load_task
from scogan.data.usps import PAPER_SAMPLE_SIZES, paper_sample
from scogan.metrics import EvaluationContext, MetricError
from scogan.metrics.domain_adaptation import source_accuracy, target_accuracy
from scogan.nets import NetOptions, build_discriminators
from scogan.nets.uda import ClassifyingDiscriminator
from scogan.trainers import TRAINERS, UDATrainer
from scogan.trainers.uda import adaptation_task, class_cross_entropy, feature_agreement
from scogan.utils.config import ConfigurationError, parse_config
from scogan.utils.records import latest_values
from tests.conftest import tiny_config

UDA = dict(gan_type="uda", uda_protocol="full", images_while_training=0)


@pytest.fixture(scope="module")
def usps_task(shared_datasets):
    return load_task("mnist2usps", DataOptions(data_dir=str(shared_datasets), source="raw"))


def poisoned(task: Task, seed: int = 7) -> Task:
    """``task`` with random class ids as the target domain's training labels."""
    source, target = task.domains
    rng = np.random.default_rng(seed)
    fake = Domain(target.name, target.image_shape, images=target.images,
                  labels=rng.integers(0, task.num_classes, len(target)).astype(np.int64))
    assert (fake.labels != target.labels).mean() > 0.5
    return Task(task.name, (source, fake), transforms=task.transforms, test_domains=task.test_domains,
                num_classes=task.num_classes, sources=dict(task.sources))


# -- losses by hand ------------------------------------------------------------------------------

def test_feature_agreement_sums_features_and_averages_the_batch():
    a = tf.constant([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = tf.constant([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    # row 1: 0 + 4 + 4 = 8; row 2: 1 + 1 + 1 = 3; mean 5.5
    assert float(feature_agreement(a, b)) == pytest.approx(5.5)
    assert float(feature_agreement(tf.ones([2, 2, 2, 1]), tf.zeros([2, 2, 2, 1]))) == pytest.approx(4.0)


def test_class_cross_entropy_is_the_softmax_log_loss():
    logits = tf.constant([[0.0, 0.0], [np.log(3.0), 0.0]])
    # -log(1/2) and -log(3/4)
    expected = (np.log(2.0) + np.log(4.0 / 3.0)) / 2
    assert float(class_cross_entropy(tf.constant([1, 0]), logits)) == pytest.approx(expected, rel=1e-6)


# -- the head on the shared last hidden layer ----------------------------------------------------

def test_the_head_reads_the_shared_hidden_layer_and_adds_only_its_own_weights():
    options = NetOptions(width=0.25)
    discriminator = build_discriminators("digit", [(32, 32, 1)] * 2, None, options)
    before = {id(v) for v in discriminator.trainable_variables}
    classifying = ClassifyingDiscriminator(discriminator, 10, options)
    added = [v for v in classifying.trainable_variables if id(v) not in before]
    assert [tuple(v.shape) for v in added] == [(125, 10), (10,)]  # 500 * 0.25 hidden units
    x = tf.random.uniform((3, 32, 32, 1), -1, 1)
    for d in range(2):
        logits, features, classes = classifying.joint_models[d](x, training=False)
        np.testing.assert_array_equal(logits.numpy(), discriminator.domain_models[d](x, training=False).numpy())
        np.testing.assert_array_equal(features.numpy(), discriminator.feature_models[d](x, training=False).numpy())
        np.testing.assert_allclose(classifying.classifiers[d](x).numpy().sum(axis=1), 1.0, rtol=1e-5)
        assert classes.shape == (3, 10)
    with pytest.raises(ConfigurationError, match="at least 2"):
        ClassifyingDiscriminator(build_discriminators("digit", [(32, 32, 1)] * 2, 1, options), 10, options)


# -- data: usps2mnist and the paper's sample -----------------------------------------------------

def test_usps2mnist_is_mnist2usps_swapped_and_the_paper_sample_is_the_same_in_both(usps_task, shared_datasets):
    swapped = load_task("usps2mnist", DataOptions(data_dir=str(shared_datasets), source="raw"))
    assert [d.name for d in swapped.domains] == ["usps", "mnist"]
    assert [len(d) for d in usps_task.domains] == [60000, 7291]
    assert [len(d) for d in usps_task.test_domains] == [10000, 2007]
    for a, b in zip(usps_task.domains, reversed(swapped.domains)):
        assert a.fingerprint() == b.fingerprint()
    mnist = paper_sample(usps_task.domains[0], 0)
    usps = paper_sample(usps_task.domains[1], 0)
    assert (len(mnist), len(usps)) == (PAPER_SAMPLE_SIZES["mnist"], PAPER_SAMPLE_SIZES["usps"]) == (2000, 1800)
    assert mnist.fingerprint() == paper_sample(swapped.domains[1], 0).fingerprint()
    assert usps.fingerprint() == paper_sample(swapped.domains[0], 0).fingerprint()
    assert mnist.fingerprint() != paper_sample(usps_task.domains[0], 1).fingerprint()
    assert len(np.unique(mnist.images.reshape(2000, -1), axis=0)) > 1990  # drawn without replacement
    with pytest.raises(ConfigurationError, match="--uda_protocol full"):
        paper_sample(Domain("edge", (32, 32, 1), images=np.zeros((4, 32, 32, 1), np.uint8)), 0)


# -- no path to the target's training labels ----------------------------------------------------

def test_the_training_view_strips_the_target_labels_and_keeps_the_test_sets(usps_task):
    view = adaptation_task(usps_task, "paper", 0)
    source, target = view.domains
    assert source.labels is not None and len(source.labels) == 2000
    assert target.labels is None and len(target) == 1800
    assert view.test_domains is usps_task.test_domains
    full = adaptation_task(usps_task, "full", 0)
    assert [len(d) for d in full.domains] == [60000, 7291] and full.domains[1].labels is None


def test_the_step_receives_source_labels_and_target_images_only(edge_task, tmp_path):
    trainer = UDATrainer(tiny_config(**UDA, iterations=2), edge_task, tmp_path / "run")
    assert trainer.task.domains[1].labels is None
    (images, labels), target = trainer.training_data(0).element_spec
    assert isinstance(target, tf.TensorSpec) and target.dtype == tf.float32 and target.shape == (1, 8, 32, 32, 1)
    assert labels.dtype == tf.int64 and labels.shape == (1, 8)
    seen = []
    step = trainer.train_step

    def spy(batches):
        seen.append(tf.nest.map_structure(lambda t: (t.dtype, tuple(t.shape)), batches))
        return step(batches)
    trainer.train_step = spy
    trainer.train()
    assert seen and all(s == (((tf.float32, (1, 8, 32, 32, 1)), (tf.int64, (1, 8))), (tf.float32, (1, 8, 32, 32, 1)))
                        for s in seen)


def test_poisoned_target_labels_give_bit_identical_training(edge_task, tmp_path):
    weights = []
    for name, task in (("true", edge_task), ("poisoned", poisoned(edge_task))):
        trainer = UDATrainer(tiny_config(**UDA, iterations=3), task, tmp_path / name)
        trainer.train()
        weights.append([v.numpy() for v in trainer.checkpoint_variables()])
    assert len(weights[0]) == len(weights[1]) > 20
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


# -- metrics -------------------------------------------------------------------------------------

def test_evaluate_records_target_and_source_accuracy(usps_task, shared_datasets, tmp_path):
    run = tmp_path / "run"
    common = ["--data_dir", str(shared_datasets), "--data_source", "raw"]
    assert main.main(["--gan_type", "uda", "--cogan_data", "mnist2usps", "--width", "0.0625", "--d_width", "0.125",
                      "--batch_size", "16", "--iterations", "20", "--images_while_training", "0", *common,
                      "--dir", str(run)]) == 0
    assert {p.name for p in run.iterdir()} >= {"classifier_source.keras", "classifier_target.keras",
                                                "generators.keras"}
    assert json.loads((run / "config.json").read_text())["uda_protocol"] == "paper"
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--metrics", "target_accuracy,source_accuracy",
                      *common]) == 0
    values = latest_values(run)
    assert set(values) == {"target_accuracy", "source_accuracy"}
    assert all(0.0 <= v <= 1.0 for v in values.values())
    # whole test sets: accuracies are multiples of 1/2007 (USPS) and 1/10000 (MNIST)
    assert values["target_accuracy"] * 2007 == pytest.approx(round(values["target_accuracy"] * 2007), abs=1e-6)
    assert values["source_accuracy"] * 10000 == pytest.approx(round(values["source_accuracy"] * 10000), abs=1e-6)


def test_the_metrics_need_a_uda_run(edge_task):
    context = EvaluationContext(lambda z: [z, z], None, edge_task, "RUN", tiny_config())
    for metric in (target_accuracy, source_accuracy):
        with pytest.raises(MetricError, match="--gan_type uda"):
            metric(context)


def test_source_only_trains_no_generator_and_classifies_the_target_by_the_source_path(edge_task, tmp_path):
    trainer = UDATrainer(tiny_config(**UDA, uda_source_only=True, iterations=2), edge_task, tmp_path / "run")
    before = [v.numpy() for v in trainer.generator.trainable_variables]
    last = trainer.train()
    assert not any(k.startswith(("d_loss", "g_loss", "feature")) for k in last) and "class_loss" in last
    for a, v in zip(before, trainer.generator.trainable_variables):
        np.testing.assert_array_equal(a, v.numpy())
    source, target = trainer.domain_classifiers()
    assert source is target
    results = trainer.evaluate(["target_accuracy", "source_accuracy"], 0)
    assert set(results) == {"target_accuracy", "source_accuracy"}
    with pytest.raises(ConfigurationError, match="source-only"):
        trainer.evaluate(["lpips"], 10)


def test_the_head_is_checkpointed(edge_task, tmp_path):
    trainer = UDATrainer(tiny_config(**UDA, iterations=2), edge_task, tmp_path / "run")
    trainer.train()
    restored = UDATrainer(tiny_config(**UDA, iterations=2), edge_task, tmp_path / "run")
    assert restored.restore() == 2
    for a, b in zip(trainer.classifying.head_variables, restored.classifying.head_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- bad inputs ----------------------------------------------------------------------------------

def _unlabelled(n: int = 2) -> Task:
    images = np.zeros((16, 32, 32, 1), np.uint8)
    return Task("unlabelled", tuple(Domain(f"d{i}", (32, 32, 1), images=images) for i in range(n)))


def test_tasks_that_cannot_be_adapted_are_refused(edge_task, tmp_path):
    with pytest.raises(ConfigurationError, match="needs class labels in domain 1"):
        UDATrainer(tiny_config(**UDA), _unlabelled(), tmp_path / "a")
    with pytest.raises(ConfigurationError, match="3 domains"):
        UDATrainer(tiny_config(**UDA), _unlabelled(3), tmp_path / "b")
    with pytest.raises(ConfigurationError, match="--uda_protocol full"):  # edge has no paper sample size
        UDATrainer(tiny_config(**{**UDA, "uda_protocol": "paper"}), edge_task, tmp_path / "c")
    with pytest.raises(ConfigurationError, match="untrained"):
        UDATrainer(tiny_config(**UDA, uda_class_weight=0.0), edge_task, tmp_path / "d")
    with pytest.raises(ConfigurationError, match="--d_shared_layers"):
        UDATrainer(tiny_config(**UDA, d_shared_layers=1), edge_task, tmp_path / "e")
    assert TRAINERS.get("uda") is UDATrainer


def test_the_command_line_names_the_problem(tmp_path, capsys):
    from PIL import Image

    dirs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(4):
            Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
        dirs.append(str(folder))
    code = main.main(["--gan_type", "uda", "--cogan_data", "folders", "--domain_dirs", *dirs, "--image_size", "32",
                      "--batch_size", "2", "--dir", str(tmp_path / "run")])
    assert code == 2
    assert "needs class labels in domain 1 (the source) of 'folders'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_config(["--gan_type", "cogan", "--uda_source_only"])
    for flag, value in (("--uda_class_weight", "-1"), ("--uda_feature_weight", "-0.5"), ("--uda_sample_seed", "-2")):
        with pytest.raises(SystemExit):
            parse_config(["--gan_type", "uda", flag, value])


# -- a short real run against the source-only baseline --------------------------------------------

@pytest.mark.slow
def test_the_coupling_carries_the_source_classifier_to_the_target_path(usps_task, tmp_path):
    """MNIST->USPS (paper sample, seed 0), 300 iterations, generators at width 0.125, batch 32:
    the target classifier c(h_2(x)), whose private block D_2 never sees a label, against the
    same path trained with the CoGAN off (``--uda_source_only``).

    Measured first over seeds 0, 1, 2 (same settings, this CPU):
      CoGAN on,  target path c(h_2):  0.548, 0.522, 0.593   (mean 0.554, sd 0.036)
      CoGAN off, target path c(h_2):  0.097, 0.117, 0.010   (D_2's block untrained: chance)
      difference:                     0.451, 0.405, 0.583   (mean 0.480, sd 0.093)
      CoGAN off, source path on USPS: 0.623, 0.618, 0.581   (the source-only baseline's score)
      CoGAN on,  source path on USPS: 0.654, 0.625, 0.627
    So at this scale adaptation does NOT beat the source-only baseline (the adapted target
    classifier is 0.075 and 0.096 below it on seeds 0 and 1, 0.012 above on seed 2); that
    needs longer runs (seed 0 at 600 iterations: 0.686 vs 0.661; the ``uda`` presets). What
    is reliable here is the weaker property tested: the coupling alone, with no target label,
    turns the target path from chance into a digit classifier. Margins: difference >= 0.25
    (the measured mean minus 2.5 sd) and the adapted path >= 0.40.
    """
    accuracy = {}
    for mode in ("adapt", "source_only"):
        config = tiny_config(gan_type="uda", cogan_data="mnist2usps", data_source="raw", width=0.125,
                             d_width=None, batch_size=32, iterations=300, log_every=50, checkpoint_every=1000,
                             images_while_training=0, seed=0, uda_source_only=mode == "source_only")
        trainer = UDATrainer(config, usps_task, tmp_path / mode)
        trainer.train()
        from scogan.metrics.classification import classify_domain

        usps = trainer.task.test_domains[1]
        accuracy[mode] = float(np.mean(np.argmax(classify_domain(trainer.classifying.classifiers[1], usps), 1)
                                       == usps.labels))
        if mode == "adapt":
            assert trainer.evaluate(["target_accuracy"], 0)["target_accuracy"] == pytest.approx(accuracy[mode])
    assert accuracy["adapt"] >= 0.40, accuracy
    assert accuracy["adapt"] - accuracy["source_only"] >= 0.25, accuracy
