"""The tamper table: each kind of damage an operator, a bad restore or an old bug could do to the
books, as SQL run behind the server's back on the healthy busy database (tests/money/busy.py),
and the finding `ewallet audit` must print for it. `:name` parameters and `{name}` in the
finding are the ids `busy.ids` found. New rows take ids from 900001 up, far above the busy ones."""

from __future__ import annotations

from dataclasses import dataclass

TRANSFER_COLUMNS = (
    "id, sheet_id, ewallet_id, reference, transfer_type, transfer_from, transfer_to, from_account_id, "
    "to_account_id, credits, create_date, write_date, hidden"
)


@dataclass(frozen=True)
class Damage:
    name: str
    statements: tuple[str, ...]
    #: Lines the audit must print (after "FINDING: "), with {id} placeholders; one ending in "…"
    #: is the start of a line (its figures follow from the busy run).
    findings: tuple[str, ...]
    #: Foreign key checks off: the damage names rows that do not exist.
    unchecked: bool = False


def damage(name: str, *statements: str, finding: str | tuple[str, ...], unchecked: bool = False) -> Damage:
    findings = (finding,) if isinstance(finding, str) else finding
    return Damage(name, statements, findings, unchecked)


BOOKS = [
    damage(
        "an ewallet's credits changed directly",
        "UPDATE credit_ewallets SET credits = credits + 7 WHERE id = :bob_ewallet",
        finding="ewallet {bob_ewallet} holds …",
    ),
    damage(
        "a clock's minutes changed directly",
        "UPDATE credit_clocks SET hundredths = hundredths + 1 WHERE id = :carol_clock",
        finding="clock {carol_clock} holds 301 hundredths of a minute; its records say 300",
    ),
    damage(
        "a negative balance",
        "UPDATE credit_ewallets SET credits = -5 WHERE id = :hal_ewallet",
        finding="ewallet {hal_ewallet} holds a negative balance (-5 credits)",
    ),
    damage(
        "a conversion record deleted",
        "DELETE FROM conversion_records WHERE id = :conversion",
        finding=("clock {alice_clock} holds …", "ewallet {alice_ewallet} holds …"),
    ),
]

PAIRS = [
    damage(
        "a deleted invoice record",
        "DELETE FROM invoice_records WHERE id = :payment_invoice",
        finding="transfer record {payment}: a payment with no invoice",
    ),
    damage(
        "a supply with no invoice (a pair written behind the server's back)",
        f"INSERT INTO transfer_records ({TRANSFER_COLUMNS}) SELECT 900001, NULL, NULL, 'Transfer Sheet Record',"
        " 'supply', 'ewallet-system', email, NULL, id, 25, write_date, write_date, false"
        " FROM accounts WHERE id = :alice",
        f"INSERT INTO transfer_records ({TRANSFER_COLUMNS}) SELECT 900002, w.active_transfer_sheet_id, w.id,"
        " 'Transfer Sheet Record', 'incoming', 'ewallet-system', a.email, NULL, a.id, 25, a.write_date, a.write_date,"
        " false FROM accounts a JOIN credit_ewallets w ON w.id = a.active_ewallet_id WHERE a.id = :alice",
        "UPDATE credit_ewallets SET credits = credits + 25 WHERE id = :alice_ewallet",
        finding="transfer record 900001: a supply with no invoice",
    ),
    damage(
        "a row pointing at an ewallet that does not exist",
        "UPDATE transfer_records SET ewallet_id = 999999 WHERE id = :transfer_in",
        finding="transfer record {transfer_in}: ewallet_id names ewallet 999999, which does not exist",
        unchecked=True,
    ),
    damage(
        "a negative-amount payment pair (balances and invoice to match)",
        "UPDATE transfer_records SET credits = -credits WHERE id IN (:payment, :payment_in)",
        "UPDATE invoice_records SET credits = -credits WHERE id = :payment_invoice",
        "UPDATE credit_ewallets SET credits = credits + 80 WHERE id = :alice_ewallet",
        "UPDATE credit_ewallets SET credits = credits - 80 WHERE id = :bob_ewallet",
        finding=(
            "transfer record {payment}: amount -40 is not positive",
            "transfer record {payment_in}: amount -40 is not positive",
        ),
    ),
    damage(
        "an incoming row moved to another account's ewallet",
        "UPDATE transfer_records SET ewallet_id = :carol_ewallet, sheet_id = :carol_transfer_sheet"
        " WHERE id = :payment_in",
        finding="transfer record {payment_in}: in ewallet {carol_ewallet} of account {carol}, "
        "but its receiver is account {bob}",
    ),
    damage(
        "an unknown transfer type",
        "UPDATE transfer_records SET transfer_type = 'gift' WHERE id = :transfer",
        finding="transfer record {transfer}: unknown transfer type 'gift'",
    ),
    damage(
        "a pair whose incoming row is missing",
        "DELETE FROM transfer_records WHERE id = :transfer_in",
        "UPDATE credit_ewallets SET credits = credits - 15 WHERE id = :alice_ewallet",
        finding="transfer record {transfer}: a transfer with no incoming row",
    ),
    damage(
        "a pair whose incoming row is doubled",
        f"INSERT INTO transfer_records ({TRANSFER_COLUMNS}) SELECT 900001, sheet_id, ewallet_id, reference,"
        " transfer_type, transfer_from, transfer_to, from_account_id, to_account_id, credits, create_date,"
        " write_date, hidden FROM transfer_records WHERE id = :transfer_in",
        "UPDATE credit_ewallets SET credits = credits + 15 WHERE id = :alice_ewallet",
        finding="transfer record 900001: an incoming row with no supply, payment or transfer row of the same "
        "parties, amount and time before it",
    ),
    damage(
        "a row in a sheet of another ewallet than the one it names",
        "UPDATE transfer_records SET sheet_id = :carol_transfer_sheet WHERE id = :transfer",
        finding="transfer record {transfer}: in transfer sheet {carol_transfer_sheet} of ewallet {carol_ewallet}, "
        "not of ewallet {bob_ewallet} it names",
    ),
    damage(
        "a supply's system row put in a user's sheet",
        "UPDATE transfer_records SET sheet_id = :alice_transfer_sheet, ewallet_id = :alice_ewallet WHERE id = :supply",
        finding="transfer record {supply}: a supply row is system-side (no sheet, ewallet or payer account)",
    ),
]

INVOICES = [
    damage(
        "an invoice naming an incoming row",
        "UPDATE invoice_records SET transfer_record_id = :payment_in WHERE id = :payment_invoice",
        finding=(
            "invoice record {payment_invoice}: names transfer record {payment_in}, of type incoming, "
            "not a supply or payment",
            "transfer record {payment}: a payment with no invoice",
        ),
    ),
    damage(
        "an invoice naming no movement",
        "UPDATE invoice_records SET transfer_record_id = NULL WHERE id = :supply_invoice",
        finding=(
            "invoice record {supply_invoice}: names no movement",
            "transfer record {supply}: a supply with no invoice",
        ),
    ),
    damage(
        "an invoice for more credits than its movement",
        "UPDATE invoice_records SET credits = credits + 1 WHERE id = :supply_invoice",
        finding="invoice record {supply_invoice}: 501 credits, but its supply (transfer record {supply}) moved 500",
    ),
    damage(
        "an invoice moved to another account's sheet",
        "UPDATE invoice_records SET sheet_id = :bob_invoice_sheet WHERE id = :payment_invoice",
        finding="invoice record {payment_invoice}: in an invoice sheet of account {bob}, "
        "but the payer of its payment (transfer record {payment}) is account {alice}",
    ),
]

CONVERSIONS = [
    damage(
        "credits minted by a rate change (100 credits in at 1.00, 100 minutes back at 0.50 for 200)",
        "INSERT INTO conversion_records (id, sheet_id, clock_id, ewallet_id, reference, conversion_type, hundredths,"
        " credits, rate, notes, create_date, write_date, hidden) SELECT 900001, active_conversion_sheet_id, id,"
        " ewallet_id, 'Conversion Sheet Record', 'clock2credits', 10000, 200, 0.50, NULL, write_date, write_date,"
        " false FROM credit_clocks WHERE id = :dave_clock",
        "UPDATE credit_clocks SET hundredths = hundredths - 10000 WHERE id = :dave_clock",
        "UPDATE credit_ewallets SET credits = credits + 200 WHERE id = :dave_ewallet",
        finding=(
            "conversion record 900001: clock2credits at rate 0.50, below the rate 1.00 clock {dave_clock} "
            "was loaded at before it",
            "clock {dave_clock}: conversion record 900001 brings the credits returned to 200, "
            "more than the 100 paid in",
        ),
    ),
    damage(
        "a conversion record whose minutes disagree with its rate",
        "UPDATE conversion_records SET hundredths = hundredths + 100 WHERE id = :conversion",
        "UPDATE credit_clocks SET hundredths = hundredths + 100 WHERE id = :alice_clock",
        finding="conversion record {conversion}: minutes and credits disagree with its rate",
    ),
    damage(
        "a conversion record in another clock's sheet",
        "UPDATE conversion_records SET sheet_id = :bob_conversion_sheet WHERE id = :conversion",
        finding="conversion record {conversion}: in conversion sheet {bob_conversion_sheet} of clock {bob_clock}, "
        "not of clock {alice_clock}",
    ),
    damage(
        "a clock's loaded rate lowered",
        "UPDATE credit_clocks SET loaded_rate = 0.50 WHERE id = :dave_clock",
        finding="clock {dave_clock}: loaded rate 0.50, but its credits2clock records reach 1.00",
    ),
]

TIME = [
    damage(
        "a deleted time record whose minutes were given back to the clock",
        "DELETE FROM time_records WHERE id = :time",
        "UPDATE credit_clocks SET hundredths = hundredths + :time_spent WHERE id = :alice_clock",
        finding="clock {alice_clock}: its time records bill 0.00 minutes in all, but it counts 3.50 billed",
    ),
    damage(
        "a time record's time_spent raised",
        "UPDATE time_records SET spent_hundredths = spent_hundredths + 10 WHERE id = :time",
        finding="clock {alice_clock}: its time records bill 3.60 minutes in all, but it counts 3.50 billed",
    ),
    damage(
        "a closed time record reopened",
        "UPDATE time_records SET time_stop = NULL WHERE id = :time",
        finding="time record {time}: open, but clock {alice_clock} runs no timer on it",
    ),
    damage(
        "a running timer's time record closed",
        "UPDATE time_records SET time_stop = time_start WHERE id = :frank_timer",
        finding="clock {frank_clock}: its timer is active, but time record {frank_timer} is closed",
    ),
    damage(
        "a time record in another clock's sheet",
        "UPDATE time_records SET sheet_id = :bob_time_sheet WHERE id = :time",
        finding="time record {time}: in time sheet {bob_time_sheet} of clock {bob_clock}, not of clock {alice_clock}",
    ),
    damage(
        "an unknown timer state",
        "UPDATE credit_clocks SET state = 'frozen' WHERE id = :carol_clock",
        finding="clock {carol_clock}: unknown timer state 'frozen'",
    ),
]

STRUCTURE = [
    damage(
        "a hidden ewallet with credits",
        "UPDATE credit_ewallets SET hidden = true WHERE id = :bob_ewallet",
        finding="ewallet {bob_ewallet} is hidden but holds …",
    ),
    damage(
        "a hidden clock with minutes",
        "UPDATE credit_clocks SET hidden = true WHERE id = :carol_clock",
        finding="clock {carol_clock} is hidden but holds 3.00 minutes",
    ),
    damage(
        "a running timer on a hidden clock",
        "UPDATE credit_clocks SET hidden = true WHERE id = :frank_clock",
        finding="clock {frank_clock} is hidden but runs a timer (active)",
    ),
    damage(
        "a running timer on a clock that is not the active one of its ewallet",
        "UPDATE credit_ewallets SET active_clock_id = :frank_clock2 WHERE id = :frank_ewallet",
        finding="clock {frank_clock} runs a timer (active) but is not the active clock of its account's active ewallet",
    ),
    damage(
        "a running timer in an ewallet that is not the active one",
        "UPDATE accounts SET active_ewallet_id = :frank_ewallet2 WHERE id = :frank",
        finding="clock {frank_clock} runs a timer (active) but is not the active clock of its account's active ewallet",
    ),
    damage(
        "an account (not anonymised) with no visible ewallet",
        "UPDATE credit_ewallets SET hidden = true WHERE account_id = :hal",
        finding="account {hal} has no visible ewallet",
    ),
    damage(
        "a visible ewallet without a visible clock",
        "UPDATE credit_clocks SET hidden = true WHERE ewallet_id = :hal_ewallet",
        finding="ewallet {hal_ewallet} has no visible credit clock",
    ),
    damage(
        "a visible ewallet without a visible transfer sheet",
        "UPDATE transfer_sheets SET hidden = true WHERE ewallet_id = :hal_ewallet",
        finding="ewallet {hal_ewallet} has no visible transfer sheet",
    ),
    damage(
        "a visible ewallet without a visible invoice sheet",
        "UPDATE invoice_sheets SET hidden = true WHERE ewallet_id = :hal_ewallet",
        finding="ewallet {hal_ewallet} has no visible invoice sheet",
    ),
    damage(
        "a visible clock without a visible time sheet",
        "UPDATE time_sheets SET hidden = true WHERE clock_id = :hal_clock",
        finding="clock {hal_clock} has no visible time sheet",
    ),
    damage(
        "a visible clock without a visible conversion sheet",
        "UPDATE conversion_sheets SET hidden = true WHERE clock_id = :hal_clock",
        finding="clock {hal_clock} has no visible conversion sheet",
    ),
    damage(
        "an active pointer naming a hidden object",
        "UPDATE credit_ewallets SET active_transfer_sheet_id = :erin_hidden_transfer_sheet WHERE id = :erin_ewallet",
        finding="ewallet {erin_ewallet}: its active transfer sheet {erin_hidden_transfer_sheet} is hidden",
    ),
    damage(
        "an active pointer naming another owner's object",
        "UPDATE accounts SET active_ewallet_id = :bob_ewallet WHERE id = :alice",
        finding="account {alice}: its active ewallet {bob_ewallet} belongs to account {bob}",
    ),
    damage(
        "an active pointer emptied",
        "UPDATE credit_clocks SET active_time_sheet_id = NULL WHERE id = :ivy_clock",
        finding="clock {ivy_clock} has no active time sheet",
    ),
    damage(
        "an active pointer naming nothing",
        "UPDATE accounts SET active_ewallet_id = 999999 WHERE id = :carol",
        finding="account {carol}: active_ewallet_id names ewallet 999999, which does not exist",
        unchecked=True,
    ),
    damage(
        "an account pending deletion that holds credits",
        "UPDATE accounts SET deletion_date = write_date WHERE id = :bob",
        finding="account {bob} has a deletion order but holds …",
    ),
    damage(
        "an account pending deletion that holds minutes",
        "UPDATE accounts SET deletion_date = write_date WHERE id = :dave",
        finding="account {dave} has a deletion order but holds 100.00 minutes",
    ),
    damage(
        "an anonymised account's ewallet shown again",
        "UPDATE credit_ewallets SET hidden = false WHERE id = :anon_ewallet",
        finding="account {anon} is anonymised but its ewallet {anon_ewallet} is visible",
    ),
]

EVENTS = [
    damage(
        "a payment's event deleted",
        "DELETE FROM events WHERE kind = 'credits_received' AND ref_id = :payment_in",
        finding="transfer record {payment_in}: no credits_received event for account {bob}",
    ),
    damage(
        "a payment's event doubled",
        "INSERT INTO events (id, account_id, kind, ref_id, data, create_date) SELECT 900001, account_id, kind,"
        " ref_id, data, create_date FROM events WHERE kind = 'credits_received' AND ref_id = :transfer_in",
        finding="transfer record {transfer_in}: 2 credits_received events (one expected)",
    ),
    damage(
        "a payment's event moved to another account",
        "UPDATE events SET account_id = :carol WHERE kind = 'credits_received' AND ref_id = :supply_in",
        finding=(
            "transfer record {supply_in}: no credits_received event for account {alice}",
            "event …",
        ),
    ),
    damage(
        "the marker of when events began deleted",
        "DELETE FROM events WHERE kind = 'events_began'",
        finding="events: the marker of when events began to be kept is missing",
    ),
]

TABLE = BOOKS + PAIRS + INVOICES + CONVERSIONS + TIME + STRUCTURE + EVENTS
