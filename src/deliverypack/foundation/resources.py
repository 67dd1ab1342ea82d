"""Where the files that ship with deliverypack are: the slide and Word templates and the
sample returns.

They live in top-level folders of the source tree (users look there to rebrand) that the
build maps into the package (setup.py), so importlib.resources finds them the same way in a
checkout, an editable install and an installed wheel.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped(folder: str) -> Path:
    """The shipped folder `folder` (slide_templates, document_templates, sample_returns) as a
    directory on disk; wheels install unzipped, so it always is one."""
    ref = files(f"deliverypack.{folder}")
    if not isinstance(ref, Path):
        raise RuntimeError(f"deliverypack.{folder} is not on disk ({ref!r}); install "
                           "deliverypack unzipped")
    return ref
