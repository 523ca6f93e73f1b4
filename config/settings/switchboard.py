"""Product settings of Switchboard itself."""

import environ

env = environ.Env()

# A contact from the same customer within this many days of a resolved one is a follow-up (FCR).
SWITCHBOARD_FOLLOW_UP_DAYS = env.int("SWITCHBOARD_FOLLOW_UP_DAYS", default=7)
# Idempotency-Key records are kept this long.
SWITCHBOARD_IDEMPOTENCY_TTL_HOURS = env.int("SWITCHBOARD_IDEMPOTENCY_TTL_HOURS", default=24)
# Default region for phone numbers written without a country code.
SWITCHBOARD_DEFAULT_PHONE_REGION = env.str("SWITCHBOARD_DEFAULT_PHONE_REGION", default="US")
# Longest message body accepted, in characters.
SWITCHBOARD_MAX_MESSAGE_LENGTH = env.int("SWITCHBOARD_MAX_MESSAGE_LENGTH", default=20000)
# Routing: a queued interaction's priority grows by one step per this many minutes waited (no starvation).
SWITCHBOARD_ROUTING_AGEING_MINUTES = env.int("SWITCHBOARD_ROUTING_AGEING_MINUTES", default=10)
# Training: remind agents and their supervisors this many days before a pass expires (each reminder once).
SWITCHBOARD_TRAINING_REMINDER_DAYS = env.list("SWITCHBOARD_TRAINING_REMINDER_DAYS", cast=int, default=[30, 7])
