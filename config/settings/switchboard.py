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

# Where customers and providers reach Switchboard from outside: survey links in e-mails and messages, and each
# inbox's inbound URL (e.g. <this>/inbound/email/<token>/), which providers POST to and sign (Twilio). Behind a
# proxy this is the public address, not the one the proxy forwards to.
SWITCHBOARD_PUBLIC_URL = env.str("SWITCHBOARD_PUBLIC_URL", default="http://127.0.0.1:8000")

# --- E-mail inboxes (crm.inboxes) ---
# Largest raw message accepted (the inbound endpoint answers 413 above it; IMAP leaves it on the server, recorded).
SWITCHBOARD_EMAIL_MAX_BYTES = env.int("SWITCHBOARD_EMAIL_MAX_BYTES", default=25 * 1024 * 1024)
# Largest attachment kept; a larger one is listed on the message as left out, with its name and size.
SWITCHBOARD_EMAIL_MAX_ATTACHMENT_BYTES = env.int("SWITCHBOARD_EMAIL_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
# IMAP polling: how often the beat looks at every mailbox, and how many messages one transaction imports.
SWITCHBOARD_EMAIL_POLL_SECONDS = env.float("SWITCHBOARD_EMAIL_POLL_SECONDS", default=30.0)
# Stored files that no message names after this long (a rolled-back import, a refused upload) are deleted hourly.
SWITCHBOARD_ORPHAN_FILE_GRACE_SECONDS = env.float("SWITCHBOARD_ORPHAN_FILE_GRACE_SECONDS", default=3600.0)
SWITCHBOARD_EMAIL_IMAP_BATCH = env.int("SWITCHBOARD_EMAIL_IMAP_BATCH", default=50)

# --- Surveys ---
# Seconds between resolution and the survey (a queue may override it).
SURVEY_DISPATCH_DELAY = env.int("SURVEY_DISPATCH_DELAY", default=300)
# No more than one survey per customer per this many days.
SURVEY_FREQUENCY_CAP_DAYS = env.int("SURVEY_FREQUENCY_CAP_DAYS", default=30)
# A survey link stops working after this many days.
SURVEY_TOKEN_MAX_AGE_DAYS = env.int("SURVEY_TOKEN_MAX_AGE_DAYS", default=30)
# A contact this soon after a survey went out on the same channel is the customer answering it: no survey for it.
SURVEY_REPLY_GRACE_HOURS = env.int("SURVEY_REPLY_GRACE_HOURS", default=72)
# Sending: transient failures are retried with backoff this many times, then the survey is marked failed.
SURVEY_MAX_ATTEMPTS = env.int("SURVEY_MAX_ATTEMPTS", default=5)
SURVEY_RETRY_BASE_SECONDS = env.int("SURVEY_RETRY_BASE_SECONDS", default=60)
# Channel → sender (dotted path to a class with send(*, survey, link)); channels not listed use "default".
# Until real SMS/social providers exist, other channels log, or POST to SURVEY_SENDER_WEBHOOK_URL when set.
SURVEY_SENDER_WEBHOOK_URL = env.str("SURVEY_SENDER_WEBHOOK_URL", default="")
SURVEY_SENDERS = {
    "email": "crm.surveys.senders.EmailSender",
    "default": "crm.surveys.senders.WebhookPostSender"
    if SURVEY_SENDER_WEBHOOK_URL
    else "crm.surveys.senders.LogSender",
}

# --- Webhooks ---
# Against request forgery, targets on private, loopback and link-local addresses are refused unless this is on.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# At most this many bytes of a receiver's answer are read (the rest is never downloaded); an excerpt of a failed
# answer is kept with the attempt.
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=64 * 1024)
# Retries: exponential backoff with jitter from the base, each wait at most the max, for up to the max age.
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=10)
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env.int("WEBHOOK_RETRY_MAX_DELAY_SECONDS", default=3600)
WEBHOOK_MAX_AGE_SECONDS = env.int("WEBHOOK_MAX_AGE_SECONDS", default=3 * 24 * 3600)
# A subscription failing for this long (and at least this many attempts in a row) is disabled with a notice.
WEBHOOK_DISABLE_AFTER_SECONDS = env.int("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=10)

# --- Outbound delivery (replies sent through an inbox: crm.inboxes.services.delivery) ---
# Temporary failures (a 4xx from the mail server, a 5xx or timeout from a bridge) are retried with exponential
# backoff and jitter from the base, each wait at most the max, until the attempts or the age run out: then failed.
DELIVERY_RETRY_BASE_SECONDS = env.int("DELIVERY_RETRY_BASE_SECONDS", default=30)
DELIVERY_RETRY_MAX_DELAY_SECONDS = env.int("DELIVERY_RETRY_MAX_DELAY_SECONDS", default=3600)
DELIVERY_MAX_ATTEMPTS = env.int("DELIVERY_MAX_ATTEMPTS", default=10)
DELIVERY_MAX_AGE_SECONDS = env.int("DELIVERY_MAX_AGE_SECONDS", default=2 * 24 * 3600)
# An attempt that has not reported back after this long (its worker died while sending) is tried again: keep it
# well above the adapters' timeouts (SMTP 30 s per step, bridge WEBHOOK_TIMEOUT_SECONDS).
DELIVERY_SEND_LEASE_SECONDS = env.int("DELIVERY_SEND_LEASE_SECONDS", default=300)
# /metrics: served to loopback callers and to "Authorization: Bearer <METRICS_TOKEN>" (empty: loopback only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The contact-center gauges are recomputed at most this often per process (match Prometheus' scrape interval).
METRICS_CACHE_SECONDS = env.float("METRICS_CACHE_SECONDS", default=15.0)
# Queue figures (queue.stats) follow the changes that moved them by this much, once for all of them (crm.live).
SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS = env.float("SWITCHBOARD_QUEUE_STATS_DELAY_SECONDS", default=0.25)
# Twilio (SMS, WhatsApp inboxes): the hosts its media (MMS pictures) are fetched from with the account's credentials
# (and their subdomains); media elsewhere are listed as left out. And how large one media item may be.
TWILIO_MEDIA_HOSTS = env.list("TWILIO_MEDIA_HOSTS", default=["api.twilio.com", "twiliocdn.com"])
TWILIO_MEDIA_MAX_BYTES = env.int("TWILIO_MEDIA_MAX_BYTES", default=5 * 1024 * 1024)
# A Celery worker serves its task metrics here (0: not served); see config.metrics.
SWITCHBOARD_WORKER_METRICS_PORT = env.int("SWITCHBOARD_WORKER_METRICS_PORT", default=0)
SWITCHBOARD_WORKER_METRICS_ADDRESS = env.str("SWITCHBOARD_WORKER_METRICS_ADDRESS", default="127.0.0.1")
