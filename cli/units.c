/* units.c - `docbus units`: list the unit registry (codes, kinds, names). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"
#include "units.h"

int cmd_units(int argc, char **argv)
{
    static const struct option longopts[] = {CLI_COMMON_LONG, {"json", no_argument, 0, 'j'},
                                             {"codes", no_argument, 0, 'C'}, {0, 0, 0, 0}};
    cli_common_t cc = {0};
    int early, opt, json = 0, codes = 0;
    char errstr[512];
    units_t *u = NULL;
    db_config_t *cfg;
    const char *path;

    while ((opt = cli_getopt(&cc, argc, argv, "units", CLI_COMMON_SHORT, longopts, &early)) > 0) {
        if (opt == 'j')
            json = 1;
        else if (opt == 'C')
            codes = 1;
    }
    if (early >= 0)
        return early;
    if (optind != argc)
        return cli_usage_error("units", "unexpected argument \"%s\"", argv[optind]);
    if (!(cfg = cli_config(&cc)))
        return EXIT_CONFIG;
    path = config_get(cfg, "docbus.registry", "");
    if (units_load(*path ? path : NULL, &u, errstr, sizeof errstr)) {
        cli_err("units", "%s", errstr);
        config_destroy(cfg);
        return EXIT_CONFIG;
    }
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < units_count(u); i++) {
        const unit_t *x = units_at(u, i);
        if (json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "code", x->code, "kind",
                                                 unit_kind_name(x->kind), "name", x->name));
        else if (codes)
            printf("%s\n", x->code);
        else
            printf("%s\t%s\t%s\n", x->code, unit_kind_name(x->kind), x->name);
    }
    if (json) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(arr);
    }
    units_destroy(u);
    config_destroy(cfg);
    return EXIT_OK;
}
