"""The floor every app stands on: mechanisms shared by all of them, each in one place.

``core`` imports no app of this project; every app may import it. It holds no data of its own
(only the abstract background-job model), so it has no migrations.
"""
