"""The ``drivercam`` command line: ``live``, ``annotate``, ``info`` and ``bench``.

This package is the only place that reads ``argv`` and environment variables,
writes to stdout and decides exit codes. :mod:`~drivercam.cli.main` builds the
parser and runs a subcommand; :mod:`~drivercam.cli.exits` holds the exit codes
and the one-line error; :mod:`~drivercam.cli.options` the options several
subcommands share; one module per subcommand (:mod:`~drivercam.cli.annotate`,
:mod:`~drivercam.cli.live`, :mod:`~drivercam.cli.info`,
:mod:`~drivercam.cli.bench`) adds its parser and runs it.
"""
