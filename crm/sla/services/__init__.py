"""Business-hours arithmetic, calendars, policies, the clock engine, the sweep and its escalation actions."""
