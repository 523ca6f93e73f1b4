"""Voice calls: an interaction whose events come from the telephony platform, with the caller's IVR path."""
