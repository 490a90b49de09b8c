#!/usr/bin/env bash
# The README's five-minute tour as a script: run it against a fresh `npm start`.
#   bash docs/tour.sh [base url]      (needs curl, and mosquitto-clients for step 9)
set -euo pipefail
B=${1:-http://localhost:9000}
MQTT_HOST=${MQTT_HOST:-localhost}; MQTT_PORT=${MQTT_PORT:-1883}
id_from_location() { tr -d '\r' | sed -n 's#^[Ll]ocation: .*/##p'; }
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
EMAIL="tour-$RANDOM@example.com"

# 1. an account and a login token (valid 10 h)
curl -sf -X POST -H 'Content-Type: application/json' "$B/users" -d "{\"email\":\"$EMAIL\",\"password\":\"12345678\"}"
TOK=$(curl -sf -X POST -H 'Content-Type: application/json' "$B/tokens" \
  -d "{\"email\":\"$EMAIL\",\"password\":\"12345678\"}" | field token)

# 2. two things and a channel (ids come back in the Location header)
T1=$(curl -sf -i -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/things" \
  -d '{"name":"sensor","metadata":{"serial":"123456"}}' | id_from_location)
T2=$(curl -sf -i -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/things" \
  -d '{"name":"dashboard"}' | id_from_location)
C=$(curl -sf -i -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/channels" \
  -d '{"name":"readings"}' | id_from_location)
K1=$(curl -sf -H "Authorization: $TOK" "$B/things/$T1" | field key)
K2=$(curl -sf -H "Authorization: $TOK" "$B/things/$T2" | field key)

# 3. find things by (part of) their metadata
curl -sf -H "Authorization: $TOK" "$B/things?metadata=%7B%22serial%22%3A%22123456%22%7D"; echo

# 4. connect both things to the channel: now they may talk on it
curl -sf -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/connect" \
  -d "{\"channel_ids\":[\"$C\"],\"thing_ids\":[\"$T1\",\"$T2\"]}"

# 5. provision a gateway in one request: things, channels, bootstrap config, connections
curl -sf -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/mapping" \
  -d '{"name":"edge-gw","external_id":"33:52:77:99:43","external_key":"223334fw2"}'; echo

# 6. the gateway fetches its own configuration at first boot, with its external key
curl -sf -H 'Authorization: 223334fw2' "$B/things/bootstrap/33:52:77:99:43"; echo

# 7. an X.509 certificate for a thing (EC P-256, valid one year), and the CRL
curl -sf -X POST -H 'Content-Type: application/json' -H "Authorization: $TOK" "$B/certs" \
  -d "{\"thing_id\":\"$T1\",\"key_type\":\"ec\",\"key_bits\":256,\"valid\":\"8760h\"}" | head -c 300; echo
curl -sf "$B/certs/crl" | head -2

# 8. publish over HTTP with the thing key
curl -sf -X POST -H "Authorization: Thing $K1" -H 'Content-Type: application/senml+json' \
  "$B/http/channels/$C/messages/temperature" -d '[{"n":"temp","v":21.5}]' -o /dev/null -w 'HTTP publish: %{http_code}\n'

# 9. and over MQTT: the dashboard subscribes, the sensor publishes
if command -v mosquitto_sub >/dev/null; then
  mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -u "$T2" -P "$K2" -t "channels/$C/messages/#" -C 1 -W 5 -v &
  sleep 1
  mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -u "$T1" -P "$K1" -t "channels/$C/messages/temperature" -m '[{"n":"temp","v":22}]'
  wait
fi
