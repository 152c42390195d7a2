"""Reference solution for lending_club (kept out of the agent's workspace): boosted trees."""
from reference_lib import hgb

hgb("Class", "proba", positive="bad", learning_rate=0.02, max_iter=300)
