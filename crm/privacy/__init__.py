"""Data protection: a customer's data on request (export), erased on request (erase), with a record of both."""
