"""The command line: `python -m chainrule COMMAND` (or `chainrule COMMAND`).

    python -m chainrule --help
    python -m chainrule demo --steps 500
"""

import argparse
import sys


def _demo(args):
    from .demo import mnist_mlp
    mnist_mlp.main(steps=args.steps, data=args.data, bundled=args.bundled)


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def parser():
    """The argument parser, one subcommand per command."""
    top = argparse.ArgumentParser(prog="chainrule", description=(
        "chainrule: automatic differentiation of plain NumPy code."))
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="train the tutorial's MNIST MLP with chainrule gradients",
                               description="Train a PCA-100 / 300 tanh / softmax MLP on MNIST by SGD, "
                               "with gradients from cr.value_and_grad of plain NumPy code.")
    demo.add_argument("--steps", type=_positive, default=3000, help="SGD steps of 100 images (default 3000)")
    demo.add_argument("--data", metavar="DIR", help="directory of the four MNIST .gz files "
                      "(default: $CHAINRULE_DATA, ~/.cache/chainrule/mnist, else the bundled subset)")
    demo.add_argument("--bundled", action="store_true", help="use the bundled 5000-image subset")
    demo.set_defaults(run=_demo)
    return top


def main(argv=None):
    """Parse argv (default sys.argv[1:]) and run the command; returns the exit status."""
    top = parser()
    args = top.parse_args(argv)
    if args.command is None:
        top.print_help()
        return 2
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
