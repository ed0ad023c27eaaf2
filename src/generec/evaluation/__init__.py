"""Metrics and protocols: ranking metrics for retrieval, the paper's protocol for editing."""
