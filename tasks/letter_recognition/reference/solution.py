"""Reference solution for letter_recognition (kept out of the agent's workspace): boosted trees."""
from reference_lib import hgb

hgb("lettr", "label")
