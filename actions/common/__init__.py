"""What every action shares: the abstract CRM action, slot and response names."""
