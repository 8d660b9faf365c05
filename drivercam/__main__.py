"""``python -m drivercam``: the same as the ``drivercam`` command."""

from __future__ import annotations

from drivercam.cli.main import main

raise SystemExit(main())
