# A module that emb_dirty.py and emb_clean.py import from their own
# directory (not a script).  emb_dirty.py changes VALUE.
VALUE = "pristine"
