"""Node executables: each ``*_node.py`` has ``main()`` and is installed as ``lib/robotracer/<name>``."""
