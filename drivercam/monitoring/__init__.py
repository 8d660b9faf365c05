"""From predictions to driver states: smoothing, episodes, alerts, the run's session, the summary, and the :class:`Monitor` API."""
