"""The exceptions chainrule raises for input it cannot differentiate correctly."""


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class NoRuleError(ChainruleError, TypeError):
    """A NumPy function met a traced value but chainrule has no rule for it."""


class LeakError(ChainruleError, TypeError):
    """A traced value was converted in a way that would lose its derivative."""


class MutationError(ChainruleError, TypeError):
    """In-place mutation of a traced array was attempted."""


class NonScalarOutputError(ChainruleError, TypeError):
    """`grad` was asked for the gradient of a function that is not scalar-valued."""


class NonDifferentiableInputError(ChainruleError, TypeError):
    """An integer, boolean or non-numeric argument was asked to be differentiated."""


class UnsupportedOptionError(ChainruleError, NotImplementedError):
    """A NumPy function with a rule was called with an option the rule lacks."""


class ArrayLibraryError(ChainruleError, TypeError):
    """An operation cannot run (or stay lazy) on the array library of its arguments."""
