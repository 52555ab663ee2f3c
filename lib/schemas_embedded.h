/* schemas_embedded.h - the schema and data files of schemas/ compiled into the binary. */
#ifndef DOCBUS_SCHEMAS_EMBEDDED_H
#define DOCBUS_SCHEMAS_EMBEDDED_H

struct embedded_schema {
    const char *file;   /* e.g. "envelope.avsc" */
    const char *json;   /* NUL-terminated schema text */
};

/* Terminated by an entry whose file is NULL. */
extern const struct embedded_schema embedded_schemas[];

#endif
