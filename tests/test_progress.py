"""The progress bar's fields: per-domain adversarial losses and regularisers, not weight decay."""

from scogan.trainers.progress import progress_fields


def test_the_bar_shows_per_domain_losses_and_regularisers_not_weight_decay():
    metrics = {"d_loss/1": 0.6931, "d_loss/2": 1.25, "gp/1": 0.01, "d_total": 2.0, "d_weight_decay": 0.46,
               "g_loss/1": 0.7, "g_loss/2": 0.8, "feature_regulariser": 0.12345, "semantic_loss": 2.0,
               "g_total": 3.6, "g_weight_decay": 0.24}
    assert progress_fields(metrics) == {
        "d1": "0.693", "d2": "1.250", "gp1": "0.010", "g1": "0.700", "g2": "0.800",
        "feature_regulariser": "0.123", "semantic_loss": "2.000"}


def test_other_per_domain_keys_keep_their_name():
    assert progress_fields({"cycle/2": 0.5, "class_accuracy": 0.96875}) == {"cycle/2": "0.500",
                                                                            "class_accuracy": "0.969"}


def test_the_bar_speed_leaves_out_the_first_tracing_step():
    import io
    import time

    from tqdm import tqdm

    from scogan.trainers.progress import restart_clock

    bar = tqdm(total=20, file=io.StringIO(), mininterval=0)
    time.sleep(0.5)  # the first step: tracing the tf.function
    restart_clock(bar, 1)
    assert (bar.n, bar.initial) == (1, 1) and bar.format_dict["elapsed"] < 0.25
    for _ in range(5):
        time.sleep(0.01)
        bar.update(1)
    rate = bar.format_dict["rate"]
    assert bar.n == 6 and rate is not None and rate > 20  # ~100 it/s; with the first step in it, < 12
    bar.close()


def test_the_speedometer_counts_from_its_restart():
    import time

    from scogan.trainers.progress import Speedometer

    speed = Speedometer()
    assert speed.rate(1) is None  # before the first step ended
    speed.restart(1)
    assert speed.rate(1) is None  # no step since
    time.sleep(0.05)
    rate = speed.rate(3)
    assert rate is not None and 5 < rate <= 2 / 0.05
