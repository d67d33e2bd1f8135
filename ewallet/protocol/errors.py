"""Errors of the protocol and the server rather than of the domain's rules: a line that is not
JSON or too long, an envelope that names no instruction, a missing system key, a full server.
They carry their code the same way domain errors do, so every edge answers them alike."""

from __future__ import annotations

from ewallet.domain.errors import EwalletError


class InvalidJson(EwalletError):
    code = "invalid_json"
    default_message = "the line is not a valid JSON document"


class FrameTooLarge(EwalletError):
    code = "frame_too_large"
    default_message = "the line is longer than the frame limit"


class InvalidInstruction(EwalletError):
    code = "invalid_instruction"
    default_message = "not an instruction set"


class UnknownAction(EwalletError):
    code = "unknown_action"
    default_message = "no such instruction"


class SystemKeyRequired(EwalletError):
    code = "system_key_required"
    default_message = "a valid system key is required"


class Capacity(EwalletError):
    code = "capacity"
    default_message = "the server is at capacity"
