"""Routes of a council's returns."""
