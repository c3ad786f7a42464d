"""The command line: `python -m chainrule COMMAND` (or `chainrule COMMAND`).

    python -m chainrule --help
    python -m chainrule demo --quick
"""

import argparse
import sys


def _demo(args):
    from .demo import run
    try:
        run.run(data=args.data, mirrors=args.mirror, epochs=args.epochs, batch_size=args.batch_size,
                hidden=args.hidden, seed=args.seed, plot=args.plot, quick=args.quick,
                download=not args.no_download, bundled=args.bundled)
    except run.DemoError as e:
        args.parser.error(str(e))
    except MemoryError:
        args.parser.exit(1, f"chainrule demo: not enough memory (--hidden {args.hidden}, "
                         f"--batch-size {args.batch_size})\n")


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


DEMO_DESCRIPTION = """\
The tutorial's MNIST example. Images reduced by PCA to 100 dimensions, a
tanh hidden layer (1000 units), softmax over the 10 digits, trained by
minibatch Adam on gradients from cr.compile(cr.value_and_grad(loss)) of
plain NumPy code. Prints the test accuracy, the time per epoch, and the
tutorial's table of what the gradient costs by reverse mode, by
forward-accumulated Jacobian products, by forward mode and by central
differences: predicted operation counts beside measured times, memory and
accuracy.

MNIST comes from --data DIR, else $CHAINRULE_DATA, else the cache
($XDG_CACHE_HOME/chainrule/mnist, by default ~/.cache/chainrule/mnist);
missing files are downloaded there (checksummed) from the mirrors; when
that fails the bundled subset (5000 + 1000 images, 14 x 14) is used."""


def parser():
    """The argument parser, one subcommand per command."""
    top = argparse.ArgumentParser(prog="chainrule", description=(
        "chainrule: automatic differentiation of plain NumPy code."))
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="train the tutorial's MNIST network and measure its cost table",
                               description=DEMO_DESCRIPTION,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--data", metavar="DIR", help="directory holding (or to receive) the four MNIST "
                      "*-ubyte.gz files (default: $CHAINRULE_DATA, else the cache directory)")
    demo.add_argument("--mirror", metavar="URL", action="append",
                      help="base URL under which the four *-ubyte.gz files live; repeat to give "
                      "several, tried in order (default: $CHAINRULE_MNIST_MIRRORS, space-separated, "
                      "else the built-in mirrors)")
    demo.add_argument("--epochs", type=_positive, metavar="N",
                      help="passes over the training set (default 10; 2 with --quick)")
    demo.add_argument("--batch-size", type=_positive, default=128, metavar="N",
                      help="images per Adam step (default 128)")
    demo.add_argument("--hidden", type=_positive, default=1000, metavar="N",
                      help="tanh hidden units (default 1000, the tutorial's n)")
    demo.add_argument("--seed", type=_seed, default=0, metavar="N",
                      help="random seed for the weights, the batch order and the table's samples (default 0)")
    demo.add_argument("--plot", metavar="DIR", help="write training.png and cost_table.png into DIR "
                      "(needs matplotlib: pip install 'chainrule[plot]')")
    demo.add_argument("--quick", action="store_true", help="train briefly (2 epochs of at most 100 "
                      "batches) and sample the cost table lightly: under 30 s, for smoke tests and CI; "
                      "the data are found as in a full run")
    demo.add_argument("--no-download", action="store_true",
                      help="never use the network: the data directory, else the bundled subset")
    demo.add_argument("--bundled", action="store_true", help="use the bundled subset without looking further")
    demo.set_defaults(run=_demo, parser=demo)
    return top


def main(argv=None):
    """Parse argv (default sys.argv[1:]) and run the command; returns the exit status.

    Bad arguments exit with status 2 and a usage message (argparse's).
    """
    top = parser()
    args = top.parse_args(argv)
    if args.command is None:
        top.print_help()
        return 2
    try:
        args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
