/* config.h - docbus configuration: librdkafka-style key=value, docbus.* keys kept,
 * every other key passed through to librdkafka. */
#ifndef DOCBUS_CONFIG_H
#define DOCBUS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>

#define DOCBUS_DEFAULT_BOOTSTRAP "127.0.0.1:19092"

typedef struct db_config db_config_t;

/* Returns a config holding the defaults of every docbus key and
 * bootstrap.servers=DOCBUS_DEFAULT_BOOTSTRAP, or NULL on allocation failure. */
db_config_t *config_new(void);

/* Frees cfg; NULL is allowed. */
void config_destroy(db_config_t *cfg);

/* Sets key to value. Unknown docbus.* keys are DB_ERR_CONFIG (with a hint); other keys
 * are kept for librdkafka and checked when a Kafka client is made. */
int config_set(db_config_t *cfg, const char *key, const char *value,
               char *errstr, size_t errstr_size);

/* Reads "key=value" lines (blank lines and '#' comments ignored) from path.
 * Errors name the file and line. */
int config_load_file(db_config_t *cfg, const char *path, char *errstr, size_t errstr_size);

/* Returns the value of key, or def when unset. The string belongs to cfg. */
const char *config_get(const db_config_t *cfg, const char *key, const char *def);

/* Parses key as an integer in [min, max] into *out (default def when unset).
 * DB_ERR_CONFIG names the key and the bad value. */
int config_get_int(const db_config_t *cfg, const char *key, int64_t def, int64_t min,
                   int64_t max, int64_t *out, char *errstr, size_t errstr_size);

/* Returns a new rd_kafka_conf_t with every non-docbus key applied (caller owns it),
 * or NULL with errstr naming the rejected key. */
rd_kafka_conf_t *config_kafka_conf(const db_config_t *cfg, char *errstr, size_t errstr_size);

/* Writes the full topic name for a docbus topic suffix ("events", "counts",
 * "inbox.000.00.00.H29") with the configured prefix into buf. Returns buf. */
char *config_topic(const db_config_t *cfg, const char *suffix, char *buf, size_t size);

/* Prints the reference of every docbus.* key (name, default, meaning) to out. */
void config_print_reference(FILE *out);

#endif
