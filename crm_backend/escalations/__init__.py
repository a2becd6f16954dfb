"""escalations domain."""
