"""Five gait questions answered with a muscle-driven model (``gaitsim questions``).

Each question module exposes ``answer(context) -> Answer``; :mod:`.report` runs them,
writes ``questions.html`` and ``questions.json`` (every number quoted in the report).
"""
