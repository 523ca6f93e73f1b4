"""Demo data: a believable contact center with 90 days of history (``manage.py seed_demo``).

``vocabulary`` says what the center is made of, ``schedule`` when it works, ``plan`` draws its history in
memory, ``seed`` writes it. Faker (a development dependency) is needed only here.
"""

from .seed import EXTERNAL_ID_PREFIX, DemoSeedResult, demo_is_seeded, demo_seed

__all__ = ["EXTERNAL_ID_PREFIX", "DemoSeedResult", "demo_is_seeded", "demo_seed"]
