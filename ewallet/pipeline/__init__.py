"""The one path of an instruction (authorise, parameters, idempotency, handler, reply) and the
transaction policies it runs under."""
