"""ewallet: an e-wallet server with a credit clock, spoken to over line-delimited JSON on TCP."""

__version__ = "0.1.0"
