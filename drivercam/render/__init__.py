"""Drawing, as pure functions on numpy arrays: CAM maps, heatmap overlay, label, bars, HUD, alert banner.

Nothing here keeps state or touches files: every function returns a new image
and leaves its arguments alone. Modules: :mod:`~drivercam.render.cam` (a class's
map, normalised and upsampled), :mod:`~drivercam.render.heatmap` (colourise and
blend), :mod:`~drivercam.render.overlay` (label banner, top-k bars, HUD),
:mod:`~drivercam.render.alert` (the alert border and banner) and
:mod:`~drivercam.render.frame` (the render step every command uses).
"""
