"""Prepare modules: one per real dataset (stand-in package until the shared machinery lands)."""
