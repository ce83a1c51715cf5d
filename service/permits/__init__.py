"""Permits: signed, single-use statements that the gate let this exact action happen."""
