"""Real servers for tests (IMAP, SMTP), started on free loopback ports and stopped after."""
