"""The Redis channel layer, with its wait shorter than the Redis client's read timeout.

channels-redis waits up to ``brpop_timeout`` (5 s) for a socket's next message with BZPOPMIN, and
redis-py 8 reads with a 5 s socket timeout by default: an idle socket's read could time out at the
same moment and kill its consumer ("Timeout reading from 127.0.0.1:6379"). Waiting 4 s keeps every
read inside the timeout, while a read that truly hangs still fails after 5 s as before.
"""

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


class RedisChannelLayer(_RedisChannelLayer):
    brpop_timeout = 4
