"""The demo: its model and PCA, a quick run on the bundled subset through
the command line, the command line's help and errors."""

import re

import numpy as np
import pytest

import chainrule as cr
from chainrule.__main__ import main
from chainrule.datasets import mnist
from chainrule.demo import mnist_mlp, plots

OPTIONS = ["--data", "--mirror", "--epochs", "--batch-size", "--hidden", "--seed", "--plot",
           "--quick", "--no-download"]


def test_demo_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = mnist_mlp.init_params(rng, 5, 4)
    x, onehot = rng.standard_normal((6, 5)), np.eye(10)[rng.integers(0, 10, 6)]
    _, grads = cr.value_and_grad(mnist_mlp.loss)(params, x, onehot)
    direction = [rng.standard_normal(p.shape) for p in params]
    h = 1e-5
    shifted = lambda s: mnist_mlp.loss([p + s * h * d for p, d in zip(params, direction)], x, onehot)
    numeric = (shifted(1) - shifted(-1)) / (2 * h)
    assert np.isclose(sum(np.sum(g * d) for g, d in zip(grads, direction)), numeric, rtol=1e-6)


def test_loss_and_correct_counts_the_right_guesses():
    rng = np.random.default_rng(2)
    params = mnist_mlp.init_params(rng, 5, 8)
    x = rng.standard_normal((20, 5))
    guesses = mnist_mlp.predict(params, x)
    labels = np.where(np.arange(20) < 7, guesses, (guesses + 1) % 10)
    value, correct = mnist_mlp.loss_and_correct(params, x, np.eye(10)[labels])
    assert correct == 7
    assert value == pytest.approx(mnist_mlp.loss(params, x, np.eye(10)[labels]), rel=1e-15)


def test_pca_matches_the_svd_of_the_centred_data():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((300, 12)) @ rng.standard_normal((12, 12)) + 5.0
    mean, directions = mnist_mlp.pca(data, 4, chunk=64)
    np.testing.assert_allclose(mean, data.mean(axis=0), rtol=1e-12)
    _, _, vt = np.linalg.svd(data - data.mean(axis=0), full_matrices=False)
    for j in range(4):  # the same directions, up to sign
        assert abs(abs(directions[:, j] @ vt[j]) - 1) < 1e-9
    np.testing.assert_allclose(directions.T @ directions, np.eye(4), atol=1e-12)
    with pytest.raises(ValueError, match="cannot keep 13"):
        mnist_mlp.pca(data, 13)


def test_prepare_projects_on_the_training_set_directions():
    data = mnist_mlp.prepare(mnist.bundled(), dims=20)
    assert data.x_train.shape == (5000, 20) and data.x_test.shape == (1000, 20)
    assert abs(data.x_train.std() - 1) < 1e-12
    variances = data.x_train.var(axis=0)
    assert np.all(np.diff(variances) <= 1e-12)  # principal components, largest first
    np.testing.assert_array_equal(data.onehot.argmax(axis=1), data.y_train)


def test_adam_minimises_a_quadratic():
    target = np.array([1.0, -2.0, 3.0])
    opt = mnist_mlp.Adam([np.zeros(3)], lr=0.1)
    for _ in range(500):
        opt.step([2 * (opt.params[0] - target)])
    np.testing.assert_allclose(opt.params[0], target, atol=1e-3)


def test_quick_run_on_the_bundled_subset(tmp_path, capsys):
    status = main(["demo", "--quick", "--no-download", "--data", str(tmp_path / "empty"),
                   "--plot", str(tmp_path / "plots")])
    assert status == 0
    printed = capsys.readouterr().out
    assert "bundled subset" in printed and "downloading is off" in printed
    accuracy = float(re.search(r"^test accuracy: (\d+\.\d\d)%$", printed, re.M).group(1))
    assert accuracy >= 85.0  # the quick run's stated accuracy on the subset (chance: 10%)
    assert re.search(r"^time per epoch: \d+\.\d\d s", printed, re.M)
    assert "gradients verified" in printed
    for name in ("function value", "reverse mode", "forward-accumulated Jacobians",
                 "forward mode", "central differences"):
        assert re.search(rf"^{name} ", printed, re.M)
    assert "extrapolated from" in printed
    if plots.available():
        assert (tmp_path / "plots" / "training.png").stat().st_size > 1000
        assert (tmp_path / "plots" / "cost_table.png").stat().st_size > 1000
    else:
        assert "pip install 'chainrule[plot]'" in printed


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["demo", "--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    for option in OPTIONS:
        assert option in text


def test_top_level_help_lists_the_demo(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    assert "demo" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "must be at least 1"),
    (["--batch-size", "many"], "expected a whole number, got 'many'"),
    (["--hidden", "-3"], "must be at least 1"),
    (["--seed", "-1"], "must be 0 or more"),
    (["--plot"], "expected one argument"),
    (["--frobnicate"], "unrecognized arguments"),
    (["--bundled", "--batch-size", "6000"], "exceeds the 5000 training images"),
])
def test_bad_arguments_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["demo"] + argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err and "Traceback" not in err


def test_command_line_options_reach_the_demo(monkeypatch):
    from chainrule.demo import run
    seen = {}
    monkeypatch.setattr(run, "run", lambda **kwargs: seen.update(kwargs))
    assert main(["demo", "--data", "d", "--mirror", "http://127.0.0.1:1/ http://127.0.0.1:2/",
                 "--mirror", "http://127.0.0.1:3/", "--epochs", "3", "--batch-size", "64",
                 "--hidden", "50", "--seed", "7", "--plot", "p", "--quick", "--no-download"]) == 0
    assert seen == dict(data="d", mirrors=["http://127.0.0.1:1/ http://127.0.0.1:2/", "http://127.0.0.1:3/"],
                        epochs=3, batch_size=64, hidden=50, seed=7, plot="p", quick=True,
                        download=False, bundled=False)
    assert mnist.mirror_urls(seen["mirrors"]) == ["http://127.0.0.1:1/", "http://127.0.0.1:2/",
                                                  "http://127.0.0.1:3/"]
