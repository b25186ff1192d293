#!/usr/bin/env bash
# Shows that tests/plan_model.rs catches bugs: each mutant is the planner with one bug put in
# (in a copy of the committed crate, HEAD); the model test must fail on every one.
#   bash tests/plan/mutants.sh        (a few minutes the first time, then seconds per mutant)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# its own target directory: the copy has the same package hash, and would overwrite the real build
export CARGO_TARGET_DIR=$root/target/mutants
sessions=${PLAN_SESSIONS:-20000}

# NAME|TEXT IN src/plan.rs|REPLACEMENT
mutants=(
  "the learned limit is not used|tighter(self.state.rcpt_max, self.state.learned)|self.state.rcpt_max"
  "a batch-limited recipient is deferred|r.decide(RecipientState::Pending, c.code, c.enhanced, number);
                        s.limited|r.decide(RecipientState::Deferred, c.code, c.enhanced, number);
                        s.limited"
  "a possibly delivered recipient is reported delivered|r.decide(RecipientState::Deferred, code, enhanced, reply);
                r.flags|r.decide(RecipientState::Delivered, code, enhanced, reply);
                r.flags"
  "accepted recipients are not counted|s.accepted = s.accepted.saturating_add(1);|"
  "no RSET after a transaction left open|if s.tx & TX_OPEN != 0 { TX_RSET_DUE } else { 0 }|0"
  "MAILMAX is not honoured|s.mail_max != 0 && s.mails >= s.mail_max|false"
  "RCPTDOMAINMAX is not honoured|if domains == s.domain_max {|if domains == u32::MAX {"
  "recipients awaiting their RCPT reply after an early BDAT LAST are not possibly delivered|r.is(RecipientState::Sent)) {|false) {"
  "a garbled reply to the message is taken as a refusal|let message_out = self.state.tx & TX_MESSAGE_SENT != 0 && !refused;|let message_out = self.state.tx & TX_MESSAGE_SENT != 0 && !refused && reply == 0;"
  "a refused message is reported delivered|if c.scope != Scope::Recipient {
                    self.settle_accepted(c, outcome, number);|if c.scope != Scope::Recipient {
                    self.settle_accepted(c, RecipientState::Delivered, number);"
)

caught=0
for m in "${mutants[@]}"; do
  name=${m%%|*}; rest=${m#*|}; from=${rest%%|*}; to=${rest#*|}
  rm -rf "$work/crate"; mkdir "$work/crate"
  git -C "$root" archive HEAD | tar -x -C "$work/crate"
  FROM=$from TO=$to python3 - "$work/crate/src/plan.rs" <<'PY' || { echo "mutant '$name': text not found"; exit 1; }
import os, sys
p = sys.argv[1]; s = open(p).read(); f = os.environ["FROM"]
if f not in s: sys.exit(1)
open(p, "w").write(s.replace(f, os.environ["TO"], 1))
PY
  if (cd "$work/crate" && PLAN_SESSIONS=$sessions cargo test -q --test plan_model >"$work/out" 2>&1); then
    echo "NOT CAUGHT: $name"
  elif ! grep -q 'panicked' "$work/out"; then
    echo "mutant '$name' did not build or run:"; tail -n 20 "$work/out"
  else
    caught=$((caught + 1))
    echo "caught: $name: $(grep -m1 -o 'seed [0-9]*: .*' "$work/out")"
  fi
done
echo "mutants: $caught of ${#mutants[@]} caught"
[ "$caught" -eq "${#mutants[@]}" ]
