"""Demo data: a believable contact center with 90 days of history (``manage.py seed_demo``).

``vocabulary`` (and ``topics``) say what the center is made of, ``schedule`` when it works, ``plan`` draws its
history in memory (with ``shapes``, ``people``, ``work``, ``choosing``), ``seed`` writes it (``writer``, ``bulk``).
Faker (a development dependency) is needed only here. May import every crm concern; nothing imports it but the
``seed_demo`` command.
"""
