"""Returns: refuse hostile files, keep the bytes, read values with their cell addresses."""
