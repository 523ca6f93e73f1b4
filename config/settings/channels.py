"""Django Channels over channels-redis, and the limits of the live websockets (``crm.live.consumers``)."""

import environ

env = environ.Env()

# A live socket is closed (code 4000, "reconnect") after this many seconds; the client reconnects and gets a
# fresh snapshot. It must stay below ``group_expiry``: channels-redis forgets a group membership after that
# long, and a socket older than it would silently stop receiving its groups' events.
SWITCHBOARD_WS_MAX_AGE_SECONDS = env.int("SWITCHBOARD_WS_MAX_AGE_SECONDS", default=3600)
# How often a live socket compares the per-group event counters in Redis with what it received, to notice
# events lost at the end of a burst (a gap in the middle is noticed at once, from the next event).
SWITCHBOARD_WS_GAP_CHECK_SECONDS = env.float("SWITCHBOARD_WS_GAP_CHECK_SECONDS", default=5.0)
# Live sockets one user may hold open at once, over all web processes (crm.live.socket_limits); one more is closed
# with 4429. 0: no limit.
SWITCHBOARD_WS_MAX_PER_USER = env.int("SWITCHBOARD_WS_MAX_PER_USER", default=10)

# Presence follows the console (crm.presence): an agent whose last console socket has been gone this long goes
# offline (status log reason "disconnected"), their offers go to others and their open chats are flagged to the
# supervisor. A reconnect within the period changes nothing.
SWITCHBOARD_PRESENCE_GRACE_SECONDS = env.float("SWITCHBOARD_PRESENCE_GRACE_SECONDS", default=60.0)
# A console socket that sent nothing for this long counts as gone even if it was never closed (the console pings
# every 25 s; a web server that died closes nothing).
SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS = env.float("SWITCHBOARD_PRESENCE_TIMEOUT_SECONDS", default=75.0)


def _layer_url(url: str) -> str:
    """The layer's Redis URL with a read timeout above channels-redis' 5-second blocking pop.

    redis-py 8 reads with a 5-second ``socket_timeout`` by default; channels-redis waits for messages with
    ``BZPOPMIN … 5``, so an idle socket's receive loop raced the timeout and crashed its consumer (seen as a
    dropped console). A URL that names its own ``socket_timeout`` keeps it.
    """
    if "socket_timeout=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}socket_timeout=30"


# Redis connections one web process (per event loop) may open for its sockets; more callers at once wait for a free
# one (config.channel_layer) instead of failing as redis-py's default pool does.
CHANNELS_REDIS_MAX_CONNECTIONS = env.int("CHANNELS_REDIS_MAX_CONNECTIONS", default=100)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "config.channel_layer.SwitchboardChannelLayer",
        "CONFIG": {
            "hosts": [
                _layer_url(
                    env.str("CHANNELS_REDIS_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))
                )
            ],
            "prefix": env.str("SWITCHBOARD_INSTANCE", default="switchboard"),
            # Messages waiting in Redis for one web process's sockets (channels-redis keeps one set per process;
            # config.channel_layer takes all that wait at once). Beyond this, messages are dropped; the sockets
            # notice the gap and resync.
            "capacity": env.int("CHANNELS_CAPACITY", default=200),
            "expiry": 60,
            "group_expiry": max(86400, 2 * SWITCHBOARD_WS_MAX_AGE_SECONDS),
        },
    }
}

# The website chat widget (crm.widget): a visitor's message size and rate, per visitor and per client address.
SWITCHBOARD_WIDGET_MAX_MESSAGE_CHARS = env.int("SWITCHBOARD_WIDGET_MAX_MESSAGE_CHARS", default=2000)
SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE = env.int("SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE", default=20)
SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS = env.int(
    "SWITCHBOARD_WIDGET_MESSAGES_PER_MINUTE_PER_ADDRESS", default=60
)
