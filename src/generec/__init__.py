"""generec: generative recommendation — retrieve, repurpose and create items for each user."""

__version__ = "0.1.0"
