"""Routes for exporting a return as a spreadsheet and importing one into a draft."""
