"""Reference solution for income (kept out of the agent's workspace): boosted regression trees rounded to a band."""
from reference_lib import hgb

hgb("INCOME", "band", learning_rate=0.03, max_iter=300)
