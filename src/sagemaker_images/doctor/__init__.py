"""The preflight ("doctor"): why Studio would refuse to launch an image version, read from
the image itself before anyone tries (checks.py lists them, facts.py and read.py read it)."""
