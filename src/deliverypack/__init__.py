"""deliverypack: the reporting engine of a delivery unit.

The flow is register -> templates -> returns/validation -> ledger -> outputs.
"""

__version__ = "0.1.0"
