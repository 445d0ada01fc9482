"""Operator commands behind `python -m herald admin`."""
