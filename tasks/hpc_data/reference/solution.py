"""Reference solution for hpc_data (kept out of the agent's workspace): boosted trees with balanced class weights."""
from reference_lib import hgb

hgb("class", "label", class_weight="balanced")
