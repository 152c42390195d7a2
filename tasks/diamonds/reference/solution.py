"""Reference solution for diamonds (kept out of the agent's workspace): boosted trees on log price."""
from reference_lib import hgb

hgb("price", "regression", log_target=True)
