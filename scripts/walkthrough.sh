#!/usr/bin/env bash
# A netcat walk through the account and resource instructions (issue 3's "Done when"): every
# request is one JSON line sent on its own connection, as `echo '{...}' | nc -q1 host port`
# would; each request is printed after "> " and its answer after "< ".
#
#   scripts/walkthrough.sh PORT [HOST]
#
# Needs a running server (`ewallet serve --port PORT --database sqlite:///...`) and OpenBSD or
# traditional netcat; set NC to use another client (default "nc -N -w 10": send, shut the write
# side, print the answer, quit when the server closes; "nc -q1" works too, a second a request).
set -euo pipefail

PORT=${1:?usage: walkthrough.sh PORT [HOST]}
HOST=${2:-127.0.0.1}
NC=${NC:-nc -N -w 10}
RUN=${RUN:-$$}                    # makes the account names unique per run
ANSWER=""

send() {  # send one instruction line, print it and its answer, keep the answer in ANSWER
    printf '> %s\n' "$1"
    ANSWER=$(printf '%s\n' "$1" | $NC "$HOST" "$PORT")
    printf '< %s\n\n' "$ANSWER"
}

field() {  # field NAME: a top-level string or integer value of the last answer
    local value
    value=$(printf '%s' "$ANSWER" | sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}[,}].*/\1/p")
    [ -n "$value" ] || { echo "walkthrough: no \"$1\" in the last answer" >&2; exit 1; }
    printf '%s' "$value"
}

client() {  # client 'ACTION-AND-PARAMETERS': an instruction of the session opened below
    send "{\"controller\":\"client\",\"ctype\":\"action\",$1,\"client_id\":\"$CLIENT_ID\",\"session_token\":\"$TOKEN\"}"
}

echo "# session"
send '{"controller":"client","ctype":"action","action":"request","request":"client_id"}'
CLIENT_ID=$(field client_id)
send "{\"controller\":\"client\",\"ctype\":\"action\",\"action\":\"request\",\"request\":\"session_token\",\"client_id\":\"$CLIENT_ID\"}"
TOKEN=$(field session_token)

echo "# accounts"
ALICE="alice$RUN" BOB="bob$RUN"
client "\"action\":\"new\",\"new\":\"account\",\"user_name\":\"$ALICE\",\"user_pass\":\"Secret!2345\",\"user_email\":\"$ALICE@example.com\""
client "\"action\":\"new\",\"new\":\"account\",\"user_name\":\"$BOB\",\"user_pass\":\"Secret!2345\",\"user_email\":\"$BOB@example.com\""
client "\"action\":\"view\",\"view\":\"account\""
client "\"action\":\"login\",\"user_email\":\"$BOB@example.com\",\"user_pass\":\"Secret!2345\""
client "\"action\":\"login\",\"user_name\":\"$ALICE\",\"user_pass\":\"Secret!2345\""
client "\"action\":\"view\",\"view\":\"account\""
client "\"action\":\"edit\",\"edit\":\"account\",\"user_alias\":\"Al\",\"user_phone\":\"0700000000\""
client "\"action\":\"view\",\"view\":\"login\""

echo "# credit ewallets and clocks"
client '"action":"new","new":"credit","credit":"ewallet","reference":"Savings"'
EWALLET=$(field ewallet)
client '"action":"view","view":"credit","credit":"ewallet"'
FIRST_EWALLET=$(field ewallet)
client "\"action\":\"switch\",\"switch\":\"credit\",\"credit\":\"ewallet\",\"ewallet_id\":$EWALLET"
client '"action":"new","new":"credit","credit":"clock","reference":"Night Clock"'
CLOCK=$(field clock)
client "\"action\":\"switch\",\"switch\":\"credit\",\"credit\":\"clock\",\"clock_id\":$CLOCK"
client '"action":"view","view":"credit","credit":"clock"'
client "\"action\":\"unlink\",\"unlink\":\"credit\",\"credit\":\"clock\",\"clock_id\":$CLOCK"
client "\"action\":\"switch\",\"switch\":\"credit\",\"credit\":\"ewallet\",\"ewallet_id\":$FIRST_EWALLET"
client "\"action\":\"unlink\",\"unlink\":\"credit\",\"credit\":\"ewallet\",\"ewallet_id\":$EWALLET"

echo "# sheets"
for kind in transfer invoice time conversion; do
    client "\"action\":\"new\",\"new\":\"$kind\",\"$kind\":\"list\",\"reference\":\"Spare $kind sheet\""
    SHEET=$(field "${kind}_sheet")
    client "\"action\":\"switch\",\"switch\":\"${kind}_sheet\",\"sheet_id\":$SHEET"
    client "\"action\":\"view\",\"view\":\"$kind\",\"$kind\":\"list\""
    client "\"action\":\"unlink\",\"unlink\":\"$kind\",\"$kind\":\"list\",\"list_id\":$SHEET"
done

echo "# records (written by supply, convert and transfer)"
client '"action":"supply","supply":"credits","credits":10,"notes":"walkthrough"'
TRANSFER_RECORD=$(field transfer_record)
INVOICE_RECORD=$(field invoice_record)
client '"action":"convert","convert":"credits2clock","credits":2'
CONVERSION_RECORD=$(field conversion_record)
client '"action":"convert","convert":"clock2credits","minutes":2.0'
client "\"action\":\"view\",\"view\":\"transfer\",\"transfer\":\"record\",\"record_id\":$TRANSFER_RECORD"
client "\"action\":\"view\",\"view\":\"invoice\",\"invoice\":\"record\",\"record_id\":$INVOICE_RECORD"
client "\"action\":\"view\",\"view\":\"conversion\",\"conversion\":\"record\",\"record_id\":$CONVERSION_RECORD"
client "\"action\":\"unlink\",\"unlink\":\"invoice\",\"invoice\":\"record\",\"record_id\":$INVOICE_RECORD"
client '"action":"view","view":"invoice","invoice":"list"'
client '"action":"view","view":"time","time":"list"'
client "\"action\":\"transfer\",\"transfer\":\"credits\",\"transfer_to\":\"$BOB@example.com\",\"credits\":10"

echo "# contacts"
client '"action":"new","new":"contact","contact":"list","reference":"Friends"'
LIST=$(field contact_list)
client "\"action\":\"switch\",\"switch\":\"contact_list\",\"list_id\":$LIST"
client "\"action\":\"new\",\"new\":\"contact\",\"contact\":\"record\",\"user_name\":\"Carol\",\"user_email\":\"carol@example.com\",\"notes\":\"met at the fair\""
RECORD=$(field contact_record)
client '"action":"view","view":"contact","contact":"list"'
client "\"action\":\"view\",\"view\":\"contact\",\"contact\":\"record\",\"record_id\":$RECORD"
client "\"action\":\"unlink\",\"unlink\":\"contact\",\"contact\":\"record\",\"record_id\":$RECORD"
client "\"action\":\"unlink\",\"unlink\":\"contact\",\"contact\":\"list\",\"list_id\":$LIST"

echo "# the login stack, logout and the deletion order"
client "\"action\":\"switch\",\"switch\":\"account\",\"account\":\"$BOB@example.com\""
client '"action":"logout"'
client '"action":"logout"'
client "\"action\":\"login\",\"user_name\":\"$ALICE\",\"user_pass\":\"Secret!2345\""
client '"action":"view","view":"logout"'
client '"action":"unlink","unlink":"account"'
client "\"action\":\"login\",\"user_name\":\"$ALICE\",\"user_pass\":\"Secret!2345\""
client '"action":"view","view":"account"'
