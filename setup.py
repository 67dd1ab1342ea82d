"""Packaging layout that pyproject.toml cannot say: the top-level template folders ship inside
the package. Users look for slide_templates/, document_templates/ and sample_returns/ at the
top of the tree to rebrand them, so they stay there and are mapped to deliverypack.<folder>
at build time; the code finds them with importlib.resources (deliverypack.foundation.resources)."""

from setuptools import find_packages, setup

SHIPPED = {
    "slide_templates": ["*.pptx"],
    "document_templates": ["*.docx"],
    "sample_returns": ["*/*.xlsx", "*/organisations/*.xlsx"],
}

setup(
    packages=find_packages("src") + [f"deliverypack.{name}" for name in SHIPPED],
    package_dir={"": "src", **{f"deliverypack.{name}": name for name in SHIPPED}},
    package_data={"deliverypack": ["py.typed"],
                  **{f"deliverypack.{name}": globs for name, globs in SHIPPED.items()}},
)
