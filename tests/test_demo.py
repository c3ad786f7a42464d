"""The demo trains (loss falls, accuracy beats chance) and the command line runs it."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.__main__ import main
from chainrule.datasets import mnist
from chainrule.demo import mnist_mlp


def test_demo_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    params = mnist_mlp.init_params(rng, 5, 4, 3)
    x, onehot = rng.standard_normal((6, 5)), np.eye(3)[rng.integers(0, 3, 6)]
    _, grads = cr.value_and_grad(mnist_mlp.loss)(params, x, onehot)
    direction = [rng.standard_normal(p.shape) for p in params]
    h = 1e-5
    shifted = lambda s: mnist_mlp.loss([p + s * h * d for p, d in zip(params, direction)], x, onehot)
    numeric = (shifted(1) - shifted(-1)) / (2 * h)
    assert np.isclose(sum(np.sum(g * d) for g, d in zip(grads, direction)), numeric, rtol=1e-6)


def test_short_training_lowers_the_loss():
    losses, accuracy = mnist_mlp.train(mnist.bundled(), steps=60, report_every=20, out=None)
    assert len(losses) == 3
    assert losses[-1] < 0.7 * losses[0]
    assert accuracy > 0.5  # chance is 0.1


def test_command_line_runs_the_demo(capsys):
    assert main(["demo", "--steps", "40", "--bundled"]) == 0
    printed = capsys.readouterr().out
    assert "bundled subset" in printed and "step    40  loss" in printed
    assert "test accuracy" in printed


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--help"])
    assert exit.value.code == 0
    assert "demo" in capsys.readouterr().out


def test_bad_steps_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--steps", "0"])
    assert "must be at least 1" in capsys.readouterr().err
