"""The website chat widget: the ``chat`` adapter, visitor tokens, the visitor socket and the embeddable script."""
