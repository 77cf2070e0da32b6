"""The built-in demo: a synthetic lookbook with known season cues, and the whole pipeline on it."""
