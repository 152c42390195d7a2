"""Reference solution for ticdata (kept out of the agent's workspace): boosted trees, heavily regularised."""
from reference_lib import hgb

hgb("CARAVAN", "proba", positive="insurance", learning_rate=0.02, max_iter=200, max_depth=3)
