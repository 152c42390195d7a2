"""Reference solution for wa_churn (kept out of the agent's workspace): boosted trees."""
from reference_lib import hgb

hgb("churn", "proba", positive="Yes", learning_rate=0.02, max_iter=300)
