"""The instruction-set protocol: envelopes, their errors and the answers built from them."""
