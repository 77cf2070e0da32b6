"""Subcommand groups of the ``stylecast`` CLI (see :mod:`stylecast.cli`)."""
