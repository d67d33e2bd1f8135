"""Record the README's transcripts against the installed build, in a fresh temporary folder.

    python scripts/readme_transcripts.py [--port 8080] [--http-port 8081]

Starts `ewallet serve --port PORT` (and later `ewallet serve --http-port HTTP_PORT`) in a new
`mktemp -d` folder, runs every command the README shows, in the README's order (netcat, `ewallet
call`, `ewallet shell` through a pseudo-terminal, the Python library, the piped shell, curl, the
startup checks, `ewallet audit`, ping) and prints each transcript as it would be pasted: `$ command`
then the real output. The server's log lines are printed at the end. Needs `nc` (OpenBSD or
Debian netcat), `curl`, and pexpect (in the dev extra) for the shell.
Timestamps, client ids and tokens are the run's own: paste them as they come.
"""

# ruff: noqa: E501  (the commands are kept on one line each, as the README shows them)
from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent


def sh(command: str, env: dict[str, str], cwd: Path, shown: str | None = None) -> tuple[str, str, int]:
    """Run a bash command line, return '$ shown\\noutput' (stdout and stderr, as a terminal shows)."""
    done = subprocess.run(
        ["bash", "-c", command], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return f"$ {shown or command}\n{done.stdout}", done.stdout, done.returncode


@contextlib.contextmanager
def serving(flags: list[str], cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """`ewallet serve FLAGS` in cwd, its log in cwd/serve.log, stopped (SIGTERM) at the end."""
    with open(cwd / "serve.log", "w") as log:
        server = subprocess.Popen([str(BIN / "ewallet"), "serve", *flags], cwd=cwd, env=env, stderr=log)
        try:
            yield
        finally:
            server.terminate()
            server.wait(timeout=20)


def block(title: str, lines: list[str]) -> None:
    print(f"\n### {title}\n```console")
    print("".join(lines).rstrip("\n"))
    print("```")


def wait_port(port: int, timeout: float = 20.0) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no server on {port}")


def field(answer: str, name: str) -> str:
    match = re.search(rf'"{name}": ?"([^"]+)"', answer)
    assert match, (name, answer)
    return match.group(1)


def visible(raw: bytes) -> str:
    """What a terminal leaves on screen from prompt_toolkit's output: each line as last redrawn.

    prompt_toolkit redraws the input line from its start after an erase (ESC [ J) on every key;
    the line a user sees is the text after the last erase, without the other control sequences.
    """
    text = raw.decode("utf-8", "replace").replace("\x1b[J", "\0")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    lines = []
    for line in text.replace("\r", "").split("\n"):
        line = line.rsplit("\0", 1)[-1]
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def shell_session(env: dict[str, str], cwd: Path, port: int) -> str:
    import pexpect

    # a real terminal answers prompt_toolkit's cursor position request; pexpect does not
    child = pexpect.spawn(
        str(BIN / "ewallet"),
        ["shell", "--port", str(port)],
        env={**env, "PROMPT_TOOLKIT_NO_CPR": "1"},
        cwd=str(cwd),
        dimensions=(50, 110),
    )
    seen = bytearray()

    def pump(pattern: str) -> None:
        """Read until the shell is quiet and what it wrote since the last call matches pattern."""
        start = len(seen)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                seen.extend(child.read_nonblocking(65536, timeout=0.7))
            except pexpect.TIMEOUT:
                if re.search(pattern.encode(), bytes(seen[start:])):
                    return
        raise SystemExit(f"ewallet shell: no {pattern!r} in {bytes(seen[start:])!r}")

    steps = [
        ("register bob@example.com bob", "Bob!2345pw"),
        ("login alice@example.com", "Alice!2345pw"),
        ("pay bob@example.com 10", None),
        ("transfer bob@example.com 5", None),
        ("convert credits 20", None),
        ("timer start", None),
        ("timer stop", None),
        ("history", None),
        ("transfer bob@example.com 500", None),
    ]
    pump(r"ewallet[^\n]*>")
    for command, password in steps:
        if command == "timer stop":
            time.sleep(1)
        child.send(command + "\r")
        if password is not None:
            pump(r"password:")
            child.send(password + "\r")
        pump(r"ewallet[^\n]*>")
    child.send("quit\r")
    child.expect(pexpect.EOF, timeout=20)
    seen.extend(child.before)  # read_nonblocking alone was used so far: nothing waits in child.buffer
    # prompt_toolkit's warning when the terminal does not answer its cursor position request
    shown = "\n".join(line for line in visible(bytes(seen)).splitlines() if "(CPR)" not in line)
    return "$ ewallet shell\n" + shown + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--http-port", type=int, default=8081)
    args = parser.parse_args()
    port, http_port = args.port, args.http_port
    folder = Path(tempfile.mkdtemp(prefix="ewdoc-"))
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(folder)}
    env.pop("EWALLET_SYSTEM_KEY", None)
    print(f"# recorded in {folder}")
    with serving(["--port", str(port)], folder, env):
        wait_port(port)
        ew = f"ew() {{ printf '%s\\n' \"$1\" | nc -q1 127.0.0.1 {port}; }}; "

        def ewc(instruction: str) -> tuple[str, str]:
            text, out, _ = sh(ew + f"ew '{instruction}'", env, folder, f"ew '{instruction}'")
            return text, out

        lines: list[str] = []
        text, out = ewc('{"controller":"client","ctype":"action","action":"request","request":"client_id"}')
        lines.append(text)
        cid = field(out, "client_id")
        text, out = ewc(
            '{"controller":"client","ctype":"action","action":"request","request":"session_token",'
            f'"client_id":"{cid}"}}'
        )
        lines.append(text)
        st = field(out, "session_token")
        block("netcat: session", lines)
        ids = f'"client_id":"{cid}","session_token":"{st}"'
        lines = []
        for body in (
            '"action":"new","new":"account","user_name":"alice","user_pass":"Alice!2345pw","user_email":"alice@example.com"',
            '"action":"login","user_email":"alice@example.com","user_pass":"Alice!2345pw"',
        ):
            lines.append(ewc(f'{{"controller":"client","ctype":"action",{body},{ids}}}')[0])
        block("netcat: account", lines)
        lines = []
        time.sleep(2)
        for body in (
            '"action":"supply","supply":"credits","credits":100',
            '"action":"view","view":"credit","credit":"ewallet","id":1',
            '"action":"supply","supply":"credits","credits":0',
        ):
            lines.append(ewc(f'{{"controller":"client","ctype":"action",{body},{ids}}}')[0])
        block("netcat: supply", lines)

        lines = []
        call = """ewallet call '{"controller":"client","ctype":"action","action":"request","request":"client_id","id":"first"}'"""
        lines.append(sh(call, env, folder)[0])
        lines.append(sh("ewallet call --port 1 '{}'; echo \"[$?]\" >&2", env, folder, "ewallet call --port 1 '{}'")[0])
        block("ewallet call (the status of the second is in [brackets])", lines)

        heredoc = (
            "ewallet call --pretty <<END\n"
            '{"controller":"client","ctype":"action","action":"login","user_email":"alice@example.com","user_pass":"$ALICE_PASS","client_id":"$CID","session_token":"$ST"}\n'
            '{"controller":"client","ctype":"action","action":"transfer","transfer":"credits","transfer_to":"nobody@example.com","credits":5,"client_id":"$CID","session_token":"$ST"}\n'
            "END"
        )
        env2 = {**env, "ALICE_PASS": "Alice!2345pw", "CID": cid, "ST": st}
        text, _, status = sh(heredoc, env2, folder)
        block("ewallet call --pretty", [text, f"$ echo $?\n{status}\n"])

        block("ewallet shell", [shell_session(env, folder, port)])

        library = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
        snippets = re.findall(r"```python\n(.*?)```", library, re.S)
        for number, snippet in enumerate(snippets[:2]):
            script = folder / f"library{number}.py"
            script.write_text(snippet, encoding="utf-8")
            done = subprocess.run([sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True)
            block(f"python library example {number + 1} (prints)", [done.stdout + done.stderr])
            if number == 0:
                piped = "printf 'login carol\\nCarol!2345pw\\nbalance\\npay alice@example.com 5\\ninvoices\\n' | ewallet shell"
                text, _, status = sh(f"{piped} --port {port}" if port != 8080 else piped, env, folder, piped)
                block(f"piped shell (status {status})", [text])

        ping = '{"controller":"client","ctype":"action","action":"ping"}'
        block("ping", [ewc(ping)[0]])
        lines = []
        lines.append(sh('ewallet audit; echo "[$?]"', env, folder, "ewallet audit")[0])
        lines.append(
            sh(
                'ewallet audit --database sqlite:///nothing.db; echo "[$?]"',
                env,
                folder,
                "ewallet audit --database sqlite:///nothing.db",
            )[0]
        )
        block("audit", lines)

        port_taken = sh(f'ewallet serve --port {port}; echo "[$?]"', env, folder, f"ewallet serve --port {port}")[0]
    lines = []
    for command in ("ewallet serve --database sqlite:///transcripts/ewallet.db", "ewallet serve --system-key short"):
        lines.append(sh(command + '; echo "[$?]"', env, folder, command)[0])
    lines.insert(1, port_taken)
    block("startup checks (exit status in [brackets]; the port one while the server ran)", lines)
    print("\n### serve log\n```\n" + (folder / "serve.log").read_text() + "```")

    http_folder = Path(tempfile.mkdtemp(prefix="ewdoc-http-"))
    with serving(["--port", str(port), "--http-port", str(http_port)], http_folder, env):
        wait_port(http_port)
        url = f"localhost:{http_port}"
        lines = []
        text, out, _ = sh(f"curl -s -X POST {url}/v1/request/client-id", env, http_folder)
        lines.append(text + "\n")  # the answers end without a newline
        henv = {**env, "CID": field(out, "client_id")}
        text, out, _ = sh(
            f'curl -s -X POST {url}/v1/request/session-token -H "X-EWallet-Client-Id: $CID"', henv, http_folder
        )
        lines.append(text + ("\n" if not text.endswith("\n") else ""))
        henv["TOKEN"] = field(out, "session_token")
        auth = '-H "X-EWallet-Client-Id: $CID" -H "Authorization: Bearer $TOKEN"'
        for command in (
            f"""curl -s -X POST {url}/v1/new/account {auth} \\\n    -d '{{"user_name": "dana", "user_pass": "Dana!2345pw", "user_email": "dana@example.com"}}' -o /dev/null -w "%{{http_code}}\\n\"""",
            f"""curl -s -X POST {url}/v1/login {auth} \\\n    -d '{{"user_email": "dana@example.com", "user_pass": "Dana!2345pw"}}'""",
            f"""curl -s -X POST {url}/v1/supply/credits {auth} \\\n    -d '{{"credits": 100, "notes": "first top-up"}}'""",
            f"""curl -s -i -X POST {url}/v1/transfer/credits {auth} \\\n    -d '{{"transfer_to": "nobody@example.com", "credits": 5}}'""",
            f"""curl -s -X POST {url}/ewallet/instruction-set \\\n    -d "{{\\"controller\\": \\"client\\", \\"ctype\\": \\"action\\", \\"action\\": \\"view\\", \\"view\\": \\"credit\\", \\"credit\\": \\"ewallet\\", \\"client_id\\": \\"$CID\\", \\"session_token\\": \\"$TOKEN\\", \\"id\\": 1}}\"""",
            f"""curl -s -w " %{{http_code}}\\n" -X POST {url}/v1/view/account""",
        ):
            text = sh(command, henv, http_folder)[0]
            lines.append(text if text.endswith("\n") else text + "\n")
        block("curl", lines)
    print("\n### serve --http-port log\n```\n" + (http_folder / "serve.log").read_text() + "```")


if __name__ == "__main__":
    main()
