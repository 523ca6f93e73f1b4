"""The contact center: one sub-package per concern, all under the Django app label ``crm``.

The core is ``interactions``; the other concerns depend on it, never the reverse (see each package's docstring
for what it may import, and ``[tool.importlinter]`` in pyproject.toml, which CI checks).
"""
