"""Many videos at once: inputs, chunk planning, workers, engines (local processes, Ray), manifest, fleet tables.

``drivercam batch`` is the command line; :func:`drivercam.batch.runner.run_batch`
is the whole run. Workers turn a span of a video into raw per-frame
probabilities (decode and inference, the expensive part); the parent process
stitches a video's spans together and runs smoothing, episodes and the logs
over the whole video once, so a video cut into chunks gives exactly what one
process gives.
"""

from __future__ import annotations
