"""The TCP edge: connections, line framing, JSON on the wire, flow control, process limits."""
