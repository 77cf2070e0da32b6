"""Every figure stylecast draws: functions take numbers (and an optional matplotlib ``ax``)
and return a Figure; :func:`save_figure` writes it atomically."""
