"""Django Channels over channels-redis."""

import environ

env = environ.Env()

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [env.str("CHANNELS_REDIS_URL", default=env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"))],
            "prefix": "switchboard",
            "capacity": 200,
            "expiry": 60,
            "group_expiry": 86400,
        },
    }
}
