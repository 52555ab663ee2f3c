/* it_publish.h - what the C integration tests of the publisher share: a work directory
 * with a PKI that has issued one unit's certificate, configuration that fails loudly,
 * and a delivery-failure callback that counts failures and prints the first five. */
#ifndef DOCBUS_IT_PUBLISH_H
#define DOCBUS_IT_PUBLISH_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "it_check.h"
#include "pki.h"
#include "schema.h"

static int it_failures;   /* records the publisher reported as not delivered */

/* publish_fail_cb: counts the failure, prints the first five. */
static void it_on_fail(void *opaque, int64_t ref, const char *reason)
{
    (void)opaque;
    if (it_failures++ < 5)
        fprintf(stderr, "record %lld not delivered: %s\n", (long long)ref, reason);
}

/* Sets k=v in cfg or ends the test. */
static void it_set(db_config_t *cfg, const char *k, const char *v)
{
    char err[512];
    CHECK(config_set(cfg, k, v, err, sizeof err) == 0, "config %s: %s", k, err);
}

/* Makes the directory of template dir (mkdtemp) with a PKI in dir/pki that has issued
 * unit's certificate, loads the schemas, and points cfg's docbus.pki.dir and
 * docbus.state.dir (dir/state) there. */
static void it_publish_setup(char *dir, const char *unit, db_config_t *cfg)
{
    char err[1024], pki[600], state[600];
    CHECK(mkdtemp(dir), "mkdtemp");
    snprintf(pki, sizeof pki, "%s/pki", dir);
    snprintf(state, sizeof state, "%s/state", dir);
    CHECK(pki_init(pki, err, sizeof err) == 0 && pki_issue(pki, unit, "Unit", 30, err, sizeof err) == 0,
          "pki: %s", err);
    CHECK(schemas_init(err, sizeof err) == 0, "schemas: %s", err);
    it_set(cfg, "docbus.pki.dir", pki);
    it_set(cfg, "docbus.state.dir", state);
}

#ifdef IT_PUBLISH_MOCK
#include <librdkafka/rdkafka_mock.h>

/* Starts librdkafka's mock cluster (one broker; for error injection only) holding topic
 * with the given partitions, and points cfg's bootstrap.servers at it. *owner gets the
 * handle that owns the cluster: destroy the cluster, then it. */
static rd_kafka_mock_cluster_t *it_mock_cluster(const char *topic, int partitions,
                                                db_config_t *cfg, rd_kafka_t **owner)
{
    char err[512];
    rd_kafka_mock_cluster_t *mc;
    *owner = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), err, sizeof err);
    CHECK(*owner, "mock handle: %s", err);
    mc = rd_kafka_mock_cluster_new(*owner, 1);
    CHECK(mc, "mock cluster");
    CHECK(!rd_kafka_mock_topic_create(mc, topic, partitions, 1), "mock topic");
    it_set(cfg, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc));
    return mc;
}
#endif

/* Removes dir; the test's exit code: 0, or 1 if that failed. */
static int it_publish_cleanup(const char *dir)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

#endif
