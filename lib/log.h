/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * log: leveled messages to stderr, one line each, journald-friendly.
 *
 * When stderr is the journal (JOURNAL_STREAM set) each line starts with the syslog
 * priority prefix "<N>" so journald records the level and adds its own timestamp;
 * otherwise each line starts with an ISO-8601 UTC timestamp and the level name.
 */
#ifndef PSEUDOPOD_LOG_H
#define PSEUDOPOD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug". Returns false on anything else. */
bool log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);
/* Program name printed in front of each message ("pseudopodd"). */
void log_set_ident(const char *ident);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOG_LEVEL_DEBUG)                                            \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                                     \
	} while (0)

#endif
