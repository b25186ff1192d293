#!/usr/bin/env python3
"""A scripted SMTP server for what Postfix, Exim and OpenSMTPD do not do by default.

    scripted.py PORT MAILDIR SCENARIO

Listens on 127.0.0.1:PORT, serves one connection at a time until killed, and stores every
accepted message once per accepted recipient as MAILDIR/<local part>/<n>.eml. Scenarios:

  limit552   PIPELINING, at most 3 recipients, the surplus get "552 5.5.3 Too many recipients"
  legacy552  no PIPELINING, at most 2 recipients, the surplus get "552 too many recipients"
  barelf     PIPELINING, at most 2 recipients ("452 ..."), every line ends in a bare LF
  split      PIPELINING, at most 3 recipients ("452 4.5.3 ..."), every reply written in small
             pieces cut at odd places (inside the code, between CR and LF), with TCP_NODELAY
  bytes      PIPELINING, at most 3 recipients ("452 4.5.3 ..."), every reply a byte at a time
  helo       no EHLO ("502 5.5.2" to it: the client falls back to HELO), at most 3 recipients
             ("452 4.5.3 ...")
  greet521   "220-" then "521 5.3.2" greeting, then closes
  limits     PIPELINING and "LIMITS RCPTMAX=3" (RFC 9422), at most 3 recipients ("452 4.5.3"):
             a client that honours LIMITS never sees the 452
  421mid     no PIPELINING, at most 3 recipients ("452 4.5.3"), and "421 4.3.2" to the second
             RCPT of the second transaction, then closes
  mailmax    PIPELINING, "LIMITS RCPTMAX=3 MAILMAX=2", and it enforces both ("452 4.5.3")
  cutdot     no PIPELINING, at most 3 recipients ("452 4.5.3"); in the second transaction it
             keeps the message and closes the connection after the final dot, with no reply
  bug2693    PIPELINING, at most 3 recipients ("452 4.5.3"), but a RCPT right after a refused
             one is accepted (Exim bug 2693: 250 after 452 in one transaction)
"""
import os
import socket
import sys
import time

SCENARIOS = {
    "limit552": dict(pipelining=True, limit=3, over="552 5.5.3 Too many recipients"),
    "legacy552": dict(pipelining=False, limit=2, over="552 too many recipients"),
    "barelf": dict(pipelining=True, limit=2, over="452 too many recipients", eol="\n"),
    "split": dict(pipelining=True, limit=3, over="452 4.5.3 Error: too many recipients", split=True),
    "bytes": dict(pipelining=True, limit=3, over="452 4.5.3 Error: too many recipients", split="bytes"),
    "helo": dict(ehlo=False, limit=3, over="452 4.5.3 Error: too many recipients"),
    "greet521": dict(greeting=["220-mx.example.net ESMTP", "521 5.3.2 mx.example.net does not accept mail"]),
    "limits": dict(pipelining=True, limit=3, over="452 4.5.3 Error: too many recipients",
                   limits="RCPTMAX=3"),
    "421mid": dict(pipelining=False, limit=3, over="452 4.5.3 Too many recipients", close_at=(2, 2)),
    "mailmax": dict(pipelining=True, limit=3, over="452 4.5.3 Too many recipients",
                    limits="RCPTMAX=3 MAILMAX=2", mail_max=2),
    "cutdot": dict(pipelining=False, limit=3, over="452 4.5.3 Too many recipients", cut_after_dot=2),
    "bug2693": dict(pipelining=True, limit=3, over="452 4.5.3 Too many recipients",
                    accept_after_over=True),
}


class Session:
    def __init__(self, conn, maildir, sc):
        self.conn, self.maildir, self.sc = conn, maildir, sc
        self.eol = sc.get("eol", "\r\n")
        self.pending = b""

    def send(self, *lines):
        data = "".join(lines[i] + self.eol for i in range(len(lines))).encode()
        if not self.sc.get("split"):
            self.conn.sendall(data)
            return
        # odd places: after the first digit, inside the text, between CR and LF
        cuts = sorted({1, 3, len(data) // 2, len(data) - 1, len(data)})
        if self.sc["split"] == "bytes":
            cuts = range(1, len(data) + 1)
        start = 0
        for cut in cuts:
            if cut > start:
                self.conn.sendall(data[start:cut])
                time.sleep(0.002)
                start = cut

    def reply(self, code, *text):
        """code "250" and lines of text: a multiline reply when there are several."""
        lines = [f"{code}-{t}" for t in text[:-1]] + [f"{code} {text[-1]}"]
        self.send(*lines)

    def readline(self):
        while b"\n" not in self.pending:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def store(self, rcpts, message):
        for rcpt in rcpts:
            box = os.path.join(self.maildir, rcpt.split("@")[0])
            os.makedirs(box, exist_ok=True)
            n = len(os.listdir(box))
            with open(os.path.join(box, f"{n}.eml"), "wb") as f:
                f.write(message)

    def run(self):
        sc = self.sc
        if "greeting" in sc:
            self.send(*sc["greeting"])
            return
        self.reply("220", "mx.example.net ESMTP scripted")
        sender, rcpts, transactions = None, [], 0
        while True:
            line = self.readline()
            if line is None:
                return
            verb = line[:4].upper()
            if verb == "EHLO" and not sc.get("ehlo", True):
                self.reply("502", "5.5.2 Error: command not recognized")
            elif verb == "EHLO":
                ext = ["mx.example.net", "8BITMIME", "ENHANCEDSTATUSCODES"]
                if sc.get("pipelining"):
                    ext.insert(1, "PIPELINING")
                if sc.get("limits"):
                    ext.append("LIMITS " + sc["limits"])
                self.reply("250", *ext)
            elif verb == "HELO":
                self.reply("250", "mx.example.net")
            elif verb == "MAIL":
                transactions += 1
                if transactions > sc.get("mail_max", transactions):
                    self.reply("452", "4.5.3 Too many transactions")
                    continue
                sender, rcpts, refused_last = line[10:].strip("<>"), [], False
                self.reply("250", "2.1.0 Ok")
            elif verb == "RCPT":
                if sender is None:
                    self.reply("503", "5.5.1 Error: need MAIL command")
                elif sc.get("close_at") == (transactions, len(rcpts) + 1):
                    self.reply("421", "4.3.2 mx.example.net Service shutting down")
                    return
                elif len(rcpts) >= sc["limit"] and not (sc.get("accept_after_over") and refused_last):
                    code, text = sc["over"].split(" ", 1)
                    refused_last = True
                    self.reply(code, text)
                else:
                    refused_last = False
                    rcpts.append(line[8:].strip().strip("<>"))
                    self.reply("250", "2.1.5 Ok")
            elif verb == "DATA":
                if not rcpts:
                    self.reply("554", "5.5.1 Error: no valid recipients")
                    continue
                self.reply("354", "End data with <CR><LF>.<CR><LF>")
                message = b""
                while True:
                    data = self.readline()
                    if data is None:
                        return
                    if data == ".":
                        break
                    message += (data[1:] if data.startswith(".") else data).encode() + b"\n"
                self.store(rcpts, message)
                if sc.get("cut_after_dot") == transactions:
                    return
                self.reply("250", f"2.0.0 Ok: queued for {len(rcpts)}")
                sender, rcpts = None, []
            elif verb == "RSET":
                sender, rcpts = None, []
                self.reply("250", "2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221", "2.0.0 Bye")
                return
            else:
                self.reply("502", "5.5.2 Error: command not recognized")


def main():
    port, maildir, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sc = SCENARIOS[name]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(8)
    while True:
        conn, _ = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            Session(conn, maildir, sc).run()
        except OSError:
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
