/* units.h - the unit registry: organisation codes (QCVN 102 shape), names and kinds. */
#ifndef DOCBUS_UNITS_H
#define DOCBUS_UNITS_H

#include <stddef.h>

typedef enum {
    UNIT_CITY = 0,        /* the provincial People's Committee */
    UNIT_DEPARTMENT,      /* city departments, offices, boards */
    UNIT_DISTRICT,        /* urban and rural districts */
    UNIT_WARD,            /* wards, communes, townships */
    UNIT_PRESS,           /* press agencies */
    UNIT_CORPORATION,     /* state corporations and companies */
} unit_kind_t;

typedef struct unit {
    const char *code;     /* e.g. "000.00.11.H29" */
    const char *name;     /* UTF-8, e.g. "Sở Thông tin và Truyền thông" */
    const char *abbr;     /* notation abbreviation, e.g. "STTTT"; "" when absent */
    unit_kind_t kind;
} unit_t;

typedef struct units units_t;

/* Loads a registry from the JSON file at path, or from the embedded copy of
 * schemas/units-hcmc.json when path is NULL. On success *out owns the registry (free
 * with units_destroy). Errors: DB_ERR_IO (file), DB_ERR_NOT_FOUND (no embedded copy),
 * DB_ERR_INVALID (malformed JSON, bad code, unknown kind, duplicate code) with the
 * reason in errstr; *out is then NULL. */
int units_load(const char *path, units_t **out, char *errstr, size_t errstr_size);

/* Same as units_load, from a JSON text of len bytes; origin names it in errors. */
int units_parse(const char *json, size_t len, const char *origin, units_t **out,
                char *errstr, size_t errstr_size);

/* Frees the registry and every unit_t it handed out. NULL is accepted. */
void units_destroy(units_t *u);

/* Returns the unit with this code, or NULL (also for a NULL code). O(log n). */
const unit_t *units_find(const units_t *u, const char *code);

/* Number of units. */
size_t units_count(const units_t *u);

/* The i-th unit in registry order (the file's order), or NULL when i >= count. */
const unit_t *units_at(const units_t *u, size_t i);

/* Returns the kind's name ("city", "department", ...); never NULL. */
const char *unit_kind_name(unit_kind_t k);

/* Checks the shape of an organisation code: four dot-separated fields, three of
 * three, two and two digits and a last of one upper-case letter and two digits
 * ("000.00.11.H29"). Returns 1 if well-formed, else 0. */
int unit_code_valid(const char *code);

#endif
