"""Reference solution for satellite (kept out of the agent's workspace): boosted trees."""
from reference_lib import hgb

hgb("classes", "label")
