"""Reference solution for randhie (kept out of the agent's workspace): boosted trees with Poisson loss."""
from reference_lib import hgb

hgb("mdvis", "poisson", learning_rate=0.03, max_iter=300)
