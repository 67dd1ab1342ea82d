"""Exceptions for faults that stop a run. A bad cell is an Issue, never an exception."""


class DeliverypackError(Exception):
    """A failure the user can act on; the CLI prints it as `Error: ...` and exits 1."""


class UsageError(DeliverypackError, ValueError):
    """The command was asked for something that cannot be done (exit 2)."""


class WorkspaceError(DeliverypackError):
    """The workspace is missing or not a deliverypack workspace."""


class FileRefused(DeliverypackError):
    """A file could not be accepted at all (hostile, unreadable, wrong kind)."""


class OutputLocked(DeliverypackError, PermissionError):
    """An output file cannot be replaced, usually because it is open in Excel or Word."""
