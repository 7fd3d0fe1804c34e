"""Routes for signing in and out and managing one's own account."""
