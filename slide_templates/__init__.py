"""Shipped inside the package as deliverypack.slide_templates (see setup.py) so an installed
deliverypack finds these files with importlib.resources. Replace the files, not this one."""
