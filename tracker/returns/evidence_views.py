"""Routes for evidence: adding links and files, linking them to assessments, downloads."""
