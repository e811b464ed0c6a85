"""The ``robotracer`` command line."""
