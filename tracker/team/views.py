"""Routes for managing a council's team."""
