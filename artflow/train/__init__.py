"""Everything that needs TensorFlow: the training framework, the parity-checked exporter, exact
export rewrites (and importers of pretrained models). Needs the ``train`` extra.

The inference core (``artflow`` outside this package) never imports from here; this package
imports TensorFlow only inside its functions, so ``import artflow.train`` is still free.
"""
