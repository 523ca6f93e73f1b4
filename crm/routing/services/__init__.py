"""What changes queues and assigns their work: queue set-up, the router, offers, overflow, triggers."""
