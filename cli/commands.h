/* commands.h - every docbus subcommand: int cmd_<name>(argc, argv) returns the exit code. */
#ifndef DOCBUS_COMMANDS_H
#define DOCBUS_COMMANDS_H

int cmd_version(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_aggregate(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_units(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_topics(int argc, char **argv);
int cmd_acl(int argc, char **argv);

#endif
