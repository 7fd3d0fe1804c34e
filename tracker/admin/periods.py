"""Routes for national administrators to create, open and close periods."""
