"""Reference solution for credit_data (kept out of the agent's workspace): boosted trees."""
from reference_lib import hgb

hgb("Status", "proba", positive="bad", learning_rate=0.02, max_iter=400)
