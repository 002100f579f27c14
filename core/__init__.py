"""The floor every app stands on: mechanisms shared by all of them, each in one place.

``core`` imports no app of this project; every app may import it. Its only data of its own is the
workers' heartbeat (``core.models.WorkerHeartbeat``, read by /healthz) beside the abstract
background-job model.
"""
