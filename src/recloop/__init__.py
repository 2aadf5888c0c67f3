"""recloop: the improvement loop of a recommender system, run by agents, safely."""

__version__ = "0.1.0"
