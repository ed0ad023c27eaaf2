"""The HTTP service: a FastAPI app over one `GeneRec` loop (`create_app`), its auth, and the web page."""
