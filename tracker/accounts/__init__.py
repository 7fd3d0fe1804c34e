"""Services for people and their accounts, shared by sign-in, administration and the CLI."""
