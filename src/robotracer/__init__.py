"""robotracer: the ROS 2 stack that runs RoboTracer spatial traces on robots.

The package is layered (see README "Layout"): ``trace``, ``geometry``,
``language`` and ``validation`` are the pure-Python core; ``tracers`` and
``model`` produce traces; ``sim`` and ``robots`` move things; ``ros`` holds the
thin node adapters; ``cli`` the ``robotracer`` command.
"""

__version__ = "0.1.0"
