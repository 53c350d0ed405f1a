# A module next to the scripts, imported by use_helper.py: WHERE tells
# which directory's copy was imported.
import os

WHERE = os.path.dirname(os.path.abspath(__file__))
