"""premiums domain."""
