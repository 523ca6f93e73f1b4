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
# Reporting: first-contact resolution counts a resolved contact as resolved first time when the same customer
# does not come back on the same category within this many days (defaults to the follow-up window).
SWITCHBOARD_FCR_DAYS = env.int("SWITCHBOARD_FCR_DAYS", default=SWITCHBOARD_FOLLOW_UP_DAYS)
# Staffing: the share of paid time agents are not on the phones (breaks, training, meetings, absence).
SWITCHBOARD_SHRINKAGE = env.float("SWITCHBOARD_SHRINKAGE", default=0.3)
# Staffing forecast: how many past weeks of the same weekday and hour are averaged.
SWITCHBOARD_FORECAST_WEEKS = env.int("SWITCHBOARD_FORECAST_WEEKS", default=4)
