#!/usr/bin/env bash
# Starts the services the integration tests need, once: pcscd with the
# vsmartcard virtual reader (vpcd). Idempotent: a running pcscd is left alone.
# The virtual reader's slots listen on 127.0.0.1:35963 and :35964 for a card
# emulator; the tests in tests/integration/devices_pcsc.rs are that emulator.
set -euo pipefail

SOCKET=/run/pcscd/pcscd.comm
VPCD_CONF=/etc/reader.conf.d/vpcd

if [ ! -f "$VPCD_CONF" ]; then
  echo "start-services: $VPCD_CONF is missing; install vsmartcard-vpcd (scripts/setup.sh)" >&2
  exit 1
fi

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

if pgrep -x pcscd >/dev/null 2>&1 && [ -S "$SOCKET" ]; then
  echo "start-services: pcscd already running"
else
  # A pcscd that died may leave a stale socket or pid file behind.
  if ! pgrep -x pcscd >/dev/null 2>&1; then
    $SUDO rm -f "$SOCKET" /run/pcscd/pcscd.pid
  fi
  $SUDO mkdir -p /run/pcscd
  # -f: stay in the foreground (we background it ourselves and keep its log);
  # -a: log APDUs, which helps when a test fails.
  $SUDO sh -c 'nohup pcscd -f -a >/tmp/pcscd.log 2>&1 &'
  echo "start-services: started pcscd (log in /tmp/pcscd.log)"
fi

for _ in $(seq 1 100); do
  if [ -S "$SOCKET" ]; then
    # vpcd opens its listening ports once pcscd has loaded the driver.
    # (Look, don't connect: a connection would count as a card being inserted.)
    # 35963 = 0x8C7B; state 0A = LISTEN in /proc/net/tcp.
    if grep -qE '^ *[0-9]+: [0-9A-F]+:8C7B [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
      echo "start-services: pcscd is up with the virtual reader"
      exit 0
    fi
  fi
  sleep 0.1
done
echo "start-services: pcscd did not come up within 10 s; see /tmp/pcscd.log" >&2
exit 1
