"""The import-light command front: parses options and delegates to the modules that do the work."""
