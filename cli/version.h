/* version.h - the docbus release. */
#ifndef DOCBUS_VERSION_H
#define DOCBUS_VERSION_H
#define DOCBUS_VERSION "0.1.0"
#endif
