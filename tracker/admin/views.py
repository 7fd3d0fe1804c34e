"""Routes for national administrators."""
