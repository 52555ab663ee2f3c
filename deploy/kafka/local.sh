#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) for docbus
# development and tests. Jars come from Maven Central via pom.xml; no Docker,
# no tarball.
#
#   local.sh fetch              copy the pinned jars into libs/ (cached)
#   local.sh start [--fresh] [--secure]
#                               start the broker (idempotent); --fresh wipes data;
#                               --secure: SASL_SSL (SCRAM-SHA-512 over TLS) + ACLs,
#                               its own dir and ports; prints the client properties path
#   local.sh stop               stop it (SIGTERM, then SIGKILL after 30 s)
#   local.sh status             running/stopped; exit 0 running, 3 stopped
#   local.sh logs [tail args]   tail the broker log (e.g. `logs -f`)
#   local.sh run CLASS [ARGS]   run a Kafka tool class with the same jars, e.g.
#                               run org.apache.kafka.tools.TopicCommand --list ...
#   local.sh --secure CMD ...   any command on the secure broker (stop, status, logs, run)
#
# Environment:
#   DOCBUS_KAFKA_DIR              runtime dir (config, data, log, pid); default deploy/kafka/run
#                                 (secure: deploy/kafka/run/secure)
#   DOCBUS_KAFKA_PORT             client port; default 19092 (secure: 19094, SASL_SSL)
#   DOCBUS_KAFKA_CONTROLLER_PORT  KRaft controller port; default 19093 (secure: 19095, mTLS)
#   DOCBUS_KAFKA_SECURE           1 = same as --secure
#   DOCBUS_KAFKA_START_TIMEOUT    seconds to wait for the broker to answer; default 90
#   JAVA_HOME                     Java 17+ to use (else `java` on PATH)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/pom.xml"
LIBS="$HERE/libs"
STAMP="$HERE/.fetched"

# Security mode: "plaintext" (default; every test but tests/it/secure_*.sh uses it) or
# "secure" (SASL_SSL + SCRAM-SHA-512 + StandardAuthorizer). --secure may come first
# (`local.sh --secure stop`), among the options of start/stop/status/logs, or right
# after `run`.
MODE=plaintext
[[ "${DOCBUS_KAFKA_SECURE:-0}" == 1 ]] && MODE=secure
if [[ "${1:-}" == --secure ]]; then
    MODE=secure
    shift
fi
case "${1:-}" in
start|stop|status|logs)
    for _a in "${@:2}"; do [[ "$_a" == --secure ]] && MODE=secure; done ;;
run)
    [[ "${2:-}" == --secure ]] && MODE=secure ;;
esac

if [[ "$MODE" == secure ]]; then
    # Kafka 3.9.x, not 4.x: librdkafka < 2.6.1 cannot log in with SCRAM to Kafka 4.x
    # (see secure/pom.xml). Its jars go to the git-ignored run/ dir.
    POM="$HERE/secure/pom.xml"
    LIBS="$HERE/run/libs-secure"
    STAMP="$HERE/.fetched-secure"
    # Separate dir and ports: the secure broker runs beside the plaintext one.
    # run/secure lies inside the git-ignored run/ (keys and passwords live here).
    RUN="${DOCBUS_KAFKA_DIR:-$HERE/run/secure}"
    PORT="${DOCBUS_KAFKA_PORT:-19094}"
    CPORT="${DOCBUS_KAFKA_CONTROLLER_PORT:-19095}"
else
    RUN="${DOCBUS_KAFKA_DIR:-$HERE/run}"
    PORT="${DOCBUS_KAFKA_PORT:-19092}"
    CPORT="${DOCBUS_KAFKA_CONTROLLER_PORT:-19093}"
fi
START_TIMEOUT="${DOCBUS_KAFKA_START_TIMEOUT:-90}"
HOST=127.0.0.1
BOOTSTRAP="$HOST:$PORT"

DATA="$RUN/data"
CONF="$RUN/server.properties"
LOG4J="$RUN/log4j2.properties"
TOOLS_LOG4J="$RUN/tools-log4j2.properties"
LOG="$RUN/broker.log"
PIDFILE="$RUN/broker.pid"

# Secure mode files (all under $RUN; keys and passwords mode 0600):
TLS="$RUN/tls"                              # ca.key ca.crt broker.key broker.crt broker-keystore.pem
ADMIN_PW_FILE="$RUN/admin.password"         # the super user's SCRAM password
CLIENT_PROPS="$RUN/client.properties"       # librdkafka: docbus -c / kcat -F, as admin
JAVA_CLIENT_PROPS="$RUN/admin-java.properties"  # Kafka tools --command-config, as admin
BROKER_PRINCIPAL="CN=docbus-local-broker"   # the broker's TLS identity (controller mTLS)

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JVM_OPTS=(-Xmx512m -Xms256m
          -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
          -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15
          -Djava.awt.headless=true)

die() { echo "local.sh: $*" >&2; exit 1; }
say() { echo "local.sh: $*" >&2; }

# ---------------------------------------------------------------- fetch
pom_sum() { sha256sum "$POM" | cut -d' ' -f1; }

libs_complete() {
    [[ -f "$STAMP" && -d "$LIBS" ]] || return 1
    [[ "$(head -n1 "$STAMP")" == "pom-sha256 $(pom_sum)" ]] || return 1
    local jar n=0
    while read -r jar; do
        [[ -f "$LIBS/$jar" ]] || return 1
        n=$((n + 1))
    done < <(tail -n +2 "$STAMP")
    [[ $n -gt 0 ]]
}

cmd_fetch() {
    if libs_complete; then
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    say "fetching Kafka jars with Maven (first time only) ..."
    local tmp="$LIBS.tmp.$$"
    rm -rf "$tmp"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    # stdout -> stderr: stdout of `start` is only the bootstrap address
    mkdir -p "$(dirname "$LIBS")"
    (cd "$(dirname "$POM")" && mvn -B -q -Dstyle.color=never -f "$(basename "$POM")" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2) \
        || die "maven could not resolve $POM"
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "maven ran but no kafka_2.13 jar arrived"
    # replace libs/ whole, so jars of an older pin never stay on the classpath
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    trap - EXIT
    { echo "pom-sha256 $(pom_sum)"; (cd "$LIBS" && ls -1 ./*.jar | sed 's|^\./||'); } > "$STAMP"
    say "$(($(wc -l < "$STAMP") - 1)) jars in $LIBS"
}

# ---------------------------------------------------------------- helpers
check_java() {
    command -v "$JAVA" >/dev/null || die "java not found (need Java 17+)"
    local v
    v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    [[ -n "$v" && "$v" -ge 17 ]] || die "Kafka 4.x needs Java 17+, found '${v:-?}' ($JAVA)"
}

# pid of our broker if its process is alive, else empty (and a stale pid file is removed)
live_pid() {
    [[ -f "$PIDFILE" ]] || return 0
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
       && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $CONF"; then
        echo "$pid"
    else
        rm -f "$PIDFILE"
    fi
}

answers() {  # does something answer a Kafka metadata request on $PORT?
    # allow.auto.create.topics=false: without it the probe itself creates topic
    # "__none" (auto.create.topics.enable=true and librdkafka producers allow it)
    local sec=()
    # secure: authenticate as admin over TLS (the only way in)
    [[ "$MODE" == secure ]] && sec=(-F "$CLIENT_PROPS")
    timeout 5 kcat "${sec[@]}" -b "$BOOTSTRAP" -X allow.auto.create.topics=false \
        -L -t __none -m 3 >/dev/null 2>&1
}

port_busy() {  # anything listening on the port? (bash /dev/tcp, no extra tools)
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# ---------------------------------------------------------------- config
listener_config() {
    case "$MODE" in
    plaintext)
        cat <<EOF
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
        ;;
    secure)
        # One client listener, SASL_SSL with SCRAM-SHA-512: there is no PLAINTEXT
        # listener and so no User:ANONYMOUS path. The controller listener is loopback
        # only and mutual TLS: only a holder of the broker's key (this broker itself)
        # gets past the handshake, as User:$BROKER_PRINCIPAL (a super user).
        cat <<EOF
listeners=SASL_SSL://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=SASL_SSL://$HOST:$PORT
listener.security.protocol.map=CONTROLLER:SSL,SASL_SSL:SASL_SSL
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(cat "$ADMIN_PW_FILE")";
ssl.keystore.type=PEM
ssl.keystore.location=$TLS/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.crt
ssl.endpoint.identification.algorithm=https
ssl.enabled.protocols=TLSv1.3,TLSv1.2
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:$BROKER_PRINCIPAL
EOF
        ;;
    *) die "unknown mode $MODE" ;;
    esac
}

write_config() {
    mkdir -p "$RUN" "$DATA"
    {
        echo "# generated by deploy/kafka/local.sh on each start; edits are overwritten"
        cat <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
controller.listener.names=CONTROLLER
EOF
        listener_config
        cat <<EOF
log.dirs=$DATA
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# keep everything: auditors replay old quarters
log.retention.hours=-1
log.retention.bytes=-1
EOF
    } > "$CONF"

    cat > "$LOG4J" <<'EOF'
# broker logging: everything to stdout, which local.sh sends to broker.log
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = info
EOF
    write_tools_log4j
}

write_tools_log4j() {
    mkdir -p "$RUN"
    cat > "$TOOLS_LOG4J" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = ERR
EOF
}

new_cluster_id() {  # Kafka Uuid: 16 random bytes, base64url without padding, not starting with '-'
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ ${#id} -eq 22 && "$id" != -* ]] && { echo "$id"; return; }
    done
}

format_storage() {
    if [[ -f "$DATA/meta.properties" ]]; then
        return 0   # formatted before: keep data (also after a crash)
    fi
    local id
    id="$(new_cluster_id)"
    say "formatting $DATA (cluster id $id)"
    local scram=()
    # secure: the admin's SCRAM credential must exist before the broker starts (it is
    # also the inter-broker login), so it goes into the metadata log at format time
    [[ "$MODE" == secure ]] && \
        scram=(--add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$ADMIN_PW_FILE")]")
    "$JAVA" -cp "$LIBS/*" -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
        kafka.tools.StorageTool format -t "$id" -c "$CONF" -g "${scram[@]}" >> "$RUN/format.log" 2>&1 \
        || { tail -n 30 "$RUN/format.log" >&2; die "storage format failed (see $RUN/format.log)"; }
}

# ---------------------------------------------------------------- secure mode
# Creates, once per runtime dir, a local CA and a broker certificate for localhost /
# 127.0.0.1 (PEM, EC P-256) and the admin password; rewrites the client property files
# on every start (the port may have changed). Existing material is kept, so clients
# keep trusting the same CA across restarts.
secure_material() {
    command -v openssl >/dev/null || die "openssl not found (needed by --secure)"
    mkdir -p "$TLS"
    chmod 700 "$RUN" "$TLS"
    if [[ ! -s "$ADMIN_PW_FILE" ]]; then
        (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' 'xy' > "$ADMIN_PW_FILE")
    fi
    if [[ ! -s "$TLS/ca.crt" || ! -s "$TLS/broker-keystore.pem" ]]; then
        say "secure: creating a local CA and a broker certificate for localhost in $TLS"
        (
            set -e
            umask 077
            cd "$TLS"
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout ca.key -out ca.crt -days 3650 -subj "/CN=docbus local CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout broker.key -out broker.csr -subj "/$BROKER_PRINCIPAL" 2>/dev/null
            printf '%s\n' "basicConstraints=CA:FALSE" \
                "keyUsage=critical,digitalSignature,keyAgreement" \
                "extendedKeyUsage=serverAuth,clientAuth" \
                "subjectAltName=DNS:localhost,IP:127.0.0.1" > broker.ext
            openssl x509 -req -in broker.csr -CA ca.crt -CAkey ca.key \
                -set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile broker.ext \
                -out broker.crt 2>/dev/null
            # Kafka's PEM keystore: the unencrypted PKCS#8 key, then the chain
            cat broker.key broker.crt ca.crt > broker-keystore.pem
            rm -f broker.csr broker.ext
            chmod 644 ca.crt broker.crt
        ) || die "secure: creating TLS material in $TLS failed"
    fi
    local pw
    pw="$(cat "$ADMIN_PW_FILE")"
    (
        umask 077
        cat > "$CLIENT_PROPS" <<EOF
# docbus / librdkafka client config for the local secure broker, as the super user admin.
# Use: docbus -c $CLIENT_PROPS ...   kcat -F $CLIENT_PROPS ...
bootstrap.servers=$BOOTSTRAP
security.protocol=SASL_SSL
sasl.mechanisms=SCRAM-SHA-512
sasl.username=admin
sasl.password=$pw
ssl.ca.location=$TLS/ca.crt
EOF
        cat > "$JAVA_CLIENT_PROPS" <<EOF
# Kafka command-line tools (--command-config) as the super user admin
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$pw";
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.crt
EOF
    )
}

# ---------------------------------------------------------------- start/stop
wait_ready() {  # $1 = pid
    local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
    while (( SECONDS < deadline )); do
        if ! kill -0 "$pid" 2>/dev/null; then
            say "broker process $pid exited during startup; last log lines:"
            tail -n 30 "$LOG" >&2 || true
            rm -f "$PIDFILE"
            return 1
        fi
        answers && return 0
        sleep 0.5
    done
    say "broker did not answer on $BOOTSTRAP within ${START_TIMEOUT}s; last log lines:"
    tail -n 30 "$LOG" >&2 || true
    return 1
}

parse_start_args() {
    FRESH=0
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --fresh) FRESH=1 ;;
        --secure) ;;   # MODE was set before the defaults (see the top)
        *) die "start: unknown option $1" ;;
        esac
        shift
    done
}

cmd_start() {
    parse_start_args "$@"
    command -v kcat >/dev/null || die "kcat not found (apt-get install kcat)"
    local t0=$SECONDS pid
    pid="$(live_pid)"
    if [[ -n "$pid" ]]; then
        if [[ $FRESH -eq 1 ]]; then
            die "--fresh: broker is running (pid $pid); run stop first"
        fi
        if answers || wait_ready "$pid"; then
            say "already running (pid $pid)"
            start_output
            return 0
        fi
        die "broker pid $pid is alive but does not answer; try: $0 stop && $0 start"
    fi
    if port_busy "$PORT" || port_busy "$CPORT"; then
        die "port $PORT or $CPORT is already in use by another process (set DOCBUS_KAFKA_PORT / DOCBUS_KAFKA_CONTROLLER_PORT)"
    fi

    check_java
    cmd_fetch
    if [[ $FRESH -eq 1 ]]; then
        say "--fresh: wiping $DATA"
        rm -rf "$DATA"
    fi
    [[ "$MODE" == secure ]] && secure_material
    write_config
    format_storage

    [[ -f "$LOG" ]] && mv -f "$LOG" "$LOG.1"
    # setsid: own session, so a Ctrl-C in the caller's terminal does not reach the broker
    setsid nohup "$JAVA" "${JVM_OPTS[@]}" \
        -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$RUN" \
        -cp "$LIBS/*" kafka.Kafka "$CONF" > "$LOG" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" > "$PIDFILE"
    if ! wait_ready "$pid"; then
        cmd_stop >/dev/null 2>&1 || true   # leave nothing half-started behind
        exit 1
    fi
    say "started (pid $pid) in $((SECONDS - t0))s; data $DATA; log $LOG"
    start_output
}

# What `start` prints on stdout: plaintext the bootstrap address, secure the path of the
# admin client properties (bootstrap, SASL_SSL, SCRAM, CA) for `docbus -c` / `kcat -F`.
start_output() {
    if [[ "$MODE" == secure ]]; then
        say "secure: SASL_SSL on $BOOTSTRAP; Java tools: --command-config $JAVA_CLIENT_PROPS"
        echo "$CLIENT_PROPS"
    else
        echo "$BOOTSTRAP"
    fi
}

cmd_stop() {
    local pid i
    pid="$(live_pid)"
    if [[ -z "$pid" ]]; then
        say "not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "pid $pid still alive after 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
    rm -f "$PIDFILE"
    say "stopped (pid $pid)"
}

cmd_status() {
    local pid
    pid="$(live_pid)"
    if [[ -z "$pid" ]]; then
        echo "stopped ($BOOTSTRAP)"
        return 3
    fi
    if answers; then
        echo "running pid $pid $BOOTSTRAP"
    else
        echo "running pid $pid $BOOTSTRAP (not answering yet)"
    fi
}

cmd_logs() {
    [[ -f "$LOG" ]] || die "no log at $LOG"
    if [[ $# -eq 0 ]]; then set -- -n 100; fi
    exec tail "$@" "$LOG"
}

cmd_run() {
    [[ $# -ge 1 ]] || die "usage: $0 run CLASS [ARGS...]"
    check_java
    cmd_fetch
    [[ -f "$TOOLS_LOG4J" ]] || write_tools_log4j
    exec "$JAVA" -Xmx256m -Djava.awt.headless=true -Dlog4j2.configurationFile="$TOOLS_LOG4J" \
        -cp "$LIBS/*" "$@"
}

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

strip_secure() {  # prints its arguments NUL-separated, without --secure
    local a
    for a in "$@"; do [[ "$a" == --secure ]] || printf '%s\0' "$a"; done
}
if [[ "$MODE" == secure ]]; then
    case "${1:-}" in
    stop|status|logs) mapfile -d '' -t _rest < <(strip_secure "${@:2}"); set -- "$1" "${_rest[@]}" ;;
    run) [[ "${2:-}" == --secure ]] && set -- "$1" "${@:3}" ;;
    esac
fi

case "${1:-}" in
fetch)  shift; cmd_fetch "$@" ;;
start)  shift; cmd_start "$@" ;;
stop)   shift; cmd_stop "$@" ;;
status) shift; cmd_status "$@" ;;
logs)   shift; cmd_logs "$@" ;;
run)    shift; cmd_run "$@" ;;
-h|--help|help) usage ;;
*) usage >&2; exit 2 ;;
esac
