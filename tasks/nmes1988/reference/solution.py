"""Reference solution for nmes1988 (kept out of the agent's workspace): boosted trees with Poisson loss."""
from reference_lib import hgb

hgb("visits", "poisson", learning_rate=0.02, max_iter=300)
