"""Batch jobs on Ray over the pipeline's own calls (`generec batch ...`): local by default."""

from generec.batch.cluster import ClusterConfig
from generec.batch.jobs import BatchConfig, BatchReport, batch_create, batch_edit, batch_features

__all__ = ["BatchConfig", "BatchReport", "ClusterConfig", "batch_create", "batch_edit", "batch_features"]
