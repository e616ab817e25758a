"""Segment hair pixels: the ``segment`` stage.

Pure functions on arrays: an RGB image (and a region mask) in, a boolean hair mask out.
"""

from __future__ import annotations

# ---- close-up photos (trichoscope / dermoscope) -------------------------------------


# ---- global photos (crown, vertex, part, hairline) -----------------------------------
