"""Attacks: exact inner maximisation where it exists, PGD and certified bounds elsewhere."""
