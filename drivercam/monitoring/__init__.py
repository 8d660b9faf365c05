"""From predictions to driver states: smoothing, episodes, alerts, the run's session and summary.

Also the few-lines Python API, :class:`~drivercam.monitoring.monitor.Monitor`.
"""
