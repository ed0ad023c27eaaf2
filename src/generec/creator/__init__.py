"""The AI creator: new items made for one user (GeneRec's third way to serve). `montage.py` turns
still shots into a micro-video."""
