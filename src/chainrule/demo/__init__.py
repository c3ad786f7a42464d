"""Showcases run by `python -m chainrule demo`.

    >>> from chainrule.demo import mnist_mlp
    >>> mnist_mlp.main(steps=3000)  # doctest: +SKIP
"""
