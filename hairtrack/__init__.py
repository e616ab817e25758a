"""hairtrack: measure hair regrowth from scalp photos."""

from hairtrack.config import Params
from hairtrack.errors import HairtrackError, InputError

__version__ = "0.1.0"

__all__ = ["HairtrackError", "InputError", "Params", "__version__"]
