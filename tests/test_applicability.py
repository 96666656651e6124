"""Options that cannot apply (utils.applicability): every rule of the table, both ways, and the CLI.

For each rule the setting it names is built as a command line: the option typed there is
reported with the rule's reason; with any one condition lifted the rule no longer fires;
and somewhere the option applies with no report at all. A new rule is tested by adding it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools

import pytest

from scogan.utils import applicability as app
from scogan.utils.config import Config, build_parser, parse_config

FIELDS = {f.name: f for f in dataclasses.fields(Config)}
# What to type for an option whose default is None (the others are typed with their default).
TYPED = {"dir": ["RUN"], "data_dir": ["DATA"], "image_size": ["32"], "domain_dirs": ["A", "B"],
         "background_dir": ["PHOTOS"], "shared_layers": ["1"], "d_shared_layers": ["1"], "d_width": ["0.5"],
         "classifier_path": ["c.keras"], "out": ["OUT"], "inputs": ["a.png"], "cache_dir": ["CACHE"]}
# Options Config accepts only together with another.
COMPANIONS = {"uda_source_only": ["--gan_type", "uda"]}
OPTIONS_WITH_RULES = sorted({rule.option for rule in app.RULES})


def typed(option: str) -> list[str]:
    f = FIELDS[option]
    if f.type == "bool":
        return [*COMPANIONS.get(option, []), f"--{option}"]
    if f.default is None:
        return [f"--{option}", *TYPED[option]]
    return [f"--{option}", str(f.default)]


def setting_argv(setting: dict[str, object]) -> list[str]:
    argv: list[str] = []
    for name, value in setting.items():
        if value is True:
            argv = [*COMPANIONS.get(name, []), *argv, f"--{name}"]
        elif value is not False and value is not None:  # False, None: the default, not typed
            argv += [f"--{name}", str(value)]
    return argv


def parsed(argv: list[str]) -> tuple[Config, set[str]] | None:
    """parse_config, or None for a combination Config refuses by itself."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return parse_config(argv)
    except SystemExit:
        return None


def issue_of(option: str, argv: list[str]) -> app.Issue | None | bool:
    """The issue reported for ``option`` typed after ``argv``; False if that does not parse."""
    result = parsed([*argv, *typed(option)])
    if result is None:
        return False
    found = [issue for issue in app.check_applicability(*result) if issue.option == option]
    return found[0] if found else None


def candidates(name: str) -> list[object]:
    """The values each rule names for ``name``, then one value outside them all."""
    mentioned: list[object] = []
    for rule in app.RULES:
        if name in rule.when:
            mentioned += [v for v in rule.when[name].values if v not in mentioned]
    f = FIELDS[name]
    pool: list[object] = [f.default]
    if f.type == "bool":
        pool += [False, True]
    pool += list(f.metadata["choices"] or [])
    if f.metadata["registry"]:
        from scogan.utils.cli_help import registry_names

        pool += registry_names(f.metadata["registry"])
    pool += [1, 2]
    outside = next(v for v in pool if v not in mentioned)
    return [*mentioned, outside]


def firing_setting(rule: app.Rule) -> dict[str, object]:
    """Values of the rule's conditions under which it fires (the first that parse), in a mode
    that reads the option (else its mode rule would answer)."""
    choices = [[v for v in candidates(name) if condition.holds(v)] for name, condition in rule.when.items()]
    mode = {} if rule.is_mode_rule else {"mode": app.modes_of(rule.option)[0]}
    for values in itertools.product(*choices):
        setting = {**mode, **dict(zip(rule.when, values))}
        result = parsed([*setting_argv(setting), *typed(rule.option)])
        if result is not None and rule.fires(result[0]):
            return setting
    raise AssertionError(f"no command line makes rule {rule} fire")


@pytest.mark.parametrize("rule", app.RULES, ids=lambda r: f"{r.option}:{','.join(r.when)}")
def test_the_option_typed_where_it_cannot_apply_is_reported_with_the_reason(rule):
    setting = firing_setting(rule)
    argv = setting_argv(setting)
    issue = issue_of(rule.option, argv)
    assert issue and issue.rule == rule, (argv, issue)
    line = app.describe([issue])[0]
    assert line.startswith(f"{rule.action}: --{rule.option} ")
    assert issue.reason.replace("{it}", "it") in line and "{" not in line, line
    # a default never triggers it: the same setting without the option typed is silent
    config, given = parse_config(argv)
    assert not [i for i in app.check_applicability(config, given) if i.option == rule.option]


@pytest.mark.parametrize("rule", app.RULES, ids=lambda r: f"{r.option}:{','.join(r.when)}")
def test_lifting_any_condition_of_a_rule_stops_it(rule):
    setting = firing_setting(rule)
    for name, condition in rule.when.items():
        lifted = [v for v in candidates(name) if not condition.holds(v)]
        results = [issue_of(rule.option, setting_argv({**setting, name: v})) for v in lifted]
        results = [r for r in results if r is not False]
        assert results, f"--{name}: no value outside the rule's parses"
        assert all(r is None or r.rule != rule for r in results), (name, results)


@pytest.mark.parametrize("option", OPTIONS_WITH_RULES)
def test_every_option_applies_somewhere(option):
    keys = list(dict.fromkeys(name for rule in app.rules_of(option) for name in rule.when))
    for values in itertools.product(*(candidates(name) for name in keys)):
        if issue_of(option, setting_argv(dict(zip(keys, values)))) is None:
            return
    raise AssertionError(f"--{option} is reported in every setting of {keys}")


def test_the_table_names_real_options_settings_and_actions():
    parser_choices = {a.dest: a.choices for a in build_parser()._actions}
    for rule in app.RULES:
        assert rule.option in FIELDS and rule.action in (app.ERROR, app.WARNING), rule
        assert rule.reason and rule.fix, rule
        for name, condition in rule.when.items():
            assert name in FIELDS and name != rule.option, rule
            if parser_choices.get(name):
                assert set(condition.values) <= set(parser_choices[name]), rule
    assert set(app.MODES) <= set(FIELDS)
    assert all(set(modes) <= set(app.ALL_MODES) for modes in app.MODES.values())


def test_the_penalty_and_discriminator_lists_match_the_code():
    from scogan.nets import NetOptions, build_discriminators
    from scogan.penalties import DISCRIMINATOR_PENALTIES

    penalties = {name: DISCRIMINATOR_PENALTIES.get(name) for name in DISCRIMINATOR_PENALTIES.names()}
    assert set(app.PENALTIES_WITHOUT_LOSS) == {n for n, p in penalties.items() if p.loss is None}
    assert set(app.PENALTIES_WITHOUT_CLIPPING) == {n for n, p in penalties.items() if p.constraint is None}
    for arch in app.UNNORMALISED_DISCRIMINATORS:
        nets = [build_discriminators(arch, [(32, 32, 1)] * 2, 0, NetOptions(width=0.0625, disc_norm=norm))
                for norm in ("batch", "layer")]
        assert [w.shape for w in nets[0].model.weights] == [w.shape for w in nets[1].model.weights], arch
        assert not any("norm" in layer.name.lower() for net in nets for layer in net.model.layers), arch


def test_an_evaluation_names_what_it_takes():
    issues = app.check_applicability(*parse_config(["--mode", "evaluate", "--dir", "R", "--loss", "wgan",
                                                    "--iterations", "9", "--num_pairs", "5"]))
    assert [i.option for i in issues] == ["loss", "iterations"]
    (line,) = app.describe(issues)
    assert line.startswith("error: --loss, --iterations do not apply: --mode evaluate uses the run in --dir")
    assert "leave them out (--mode evaluate takes --dir, --data_dir, --data_source, --classifier_path, " \
           "--quiet, --verbose, --metrics, --num_pairs, --checkpoints)" in line


def test_resume_checks_only_the_mode():
    # the saved configuration decides the rest (main.train refuses any changed value)
    assert not app.check_applicability(*parse_config(["--resume", "--dir", "R", "--gan_domain", "1"]))
    (issue,) = app.check_applicability(*parse_config(["--resume", "--dir", "R", "--num", "3"]))
    assert issue.option == "num" and issue.action == app.ERROR


def test_errors_come_before_warnings_one_line_per_reason():
    config, given = parse_config(["--gan_type", "classifier", "--loss", "wgan", "--noise_dim", "5",
                                  "--attribute", "Eyeglasses"])
    lines = app.describe(app.check_applicability(config, given))
    assert lines[0].startswith("error: --attribute does not apply: only CelebA")
    assert lines[1].startswith("warning: --loss, --noise_dim are not used: --gan_type classifier")
    assert len(lines) == 2


@pytest.mark.parametrize("scale", ["full", "cpu"])
def test_every_preset_passes_the_check(scale):
    """The runner's commands (experiments.__main__.run_preset): train, resume, evaluate,
    with neither an error nor a warning (a preset passes only what its run reads)."""
    from scogan.experiments import ORDER, PRESETS

    for name in ORDER:
        preset = PRESETS.get(name)
        train = [*preset.arguments(scale), "--seed", "1", "--dir", "RUN", "--data_dir", "DATA"]
        if preset.classifier:
            train += ["--classifier_path", "RUN/classifier.keras"]
        commands = [train, ["--dir", "RUN", "--resume", "--data_dir", "DATA"],
                    ["--mode", "evaluate", "--dir", "RUN", "--metrics", ",".join(preset.metrics),
                     "--num_pairs", "100", "--data_dir", "DATA"]]
        for argv in commands:
            issues = app.check_applicability(*parse_config(argv))
            assert not issues, (name, app.describe(issues))


def test_presets_leave_out_options_their_run_does_not_read():
    """Shared settings carry WGAN-GP's penalty weight; a DCGAN column drops it, a WGAN-GP
    column keeps it; a source-only adaptation run drops the generator's options; an option
    that is refused (an error) is kept, so the run still fails loudly."""
    from scogan.experiments import PRESETS, used_options

    dcgan = PRESETS.get("collapse_scan/sl/dcgan/d1").arguments("cpu")
    wgangp = PRESETS.get("collapse_scan/sl/wgangp/d1").arguments("cpu")
    assert "--penalty_weight_d" not in dcgan and ["--penalty", "none"] == dcgan[dcgan.index("--penalty"):][:2]
    assert wgangp[wgangp.index("--penalty_weight_d") + 1] == "10.0"
    options = dict(gan_type="uda", uda_source_only=True, noise_dim=64, lr_g=1e-3, lr_d=1e-3)
    assert used_options(options) == dict(gan_type="uda", uda_source_only=True, lr_d=1e-3)
    refused = dict(gan_type="classifier", gan_domain=2, loss="wgan")
    assert used_options(refused) == dict(gan_type="classifier", gan_domain=2)


def test_main_refuses_before_creating_the_run(tmp_path, capsys):
    from scogan import main

    run = tmp_path / "run"
    assert main.main(["--gan_type", "classifier", "--loss", "wgan", "--gan_domain", "2", "--dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert "error: --gan_domain does not apply: --gan_type classifier learns every domain of the task; " \
           "picking one is for --gan_type gan; leave it out, or pass --gan_type gan" in err
    assert "warning: --loss is not used: --gan_type classifier trains one classifier" in err
    assert "Traceback" not in err and not run.exists()


def test_main_refuses_training_options_in_an_evaluation(tmp_path, capsys):
    from scogan import main

    run = tmp_path / "run"
    assert main.main(["--mode", "evaluate", "--dir", str(run), "--noise_type", "normal"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --noise_type does not apply: --mode evaluate uses the run in --dir")
    assert not run.exists()
