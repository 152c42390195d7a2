"""Reference solution for ames (kept out of the agent's workspace): boosted trees on log price."""
from reference_lib import hgb

hgb("Sale_Price", "regression", log_target=True)
