"""The demo run by `python -m chainrule demo`: the tutorial's MNIST network
(mnist_mlp), its cost table measured (cost_table), pictures (plots), and
the command's driver (run).

    >>> from chainrule.demo import run
    >>> run.run(quick=True)  # doctest: +SKIP
"""
