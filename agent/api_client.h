/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * api_client: the `pseudopod` CLI's side of pseudopodd's local API (library
 * pp_agent_cli): one HTTP request over the unix socket with libcurl
 * (CURLOPT_UNIX_SOCKET_PATH), the reply parsed as JSON.
 *
 * Errors say whose fault they are, because the CLI's message depends on it:
 *   -ENOENT / -ECONNREFUSED  nothing listens on the socket: pseudopodd is not running;
 *   -EACCES                  the socket is root-only (0600) and we are not root;
 *   -ETIMEDOUT               the daemon accepted but did not answer in time;
 *   -EPROTO                  the reply is not JSON, or too large (API_CLIENT_REPLY_MAX);
 *   0                        a JSON reply, whatever its HTTP status (*status); for a
 *                            status >= 400 the daemon's {"error": ...} is in *body.
 * api_client_parse_reply() is the pure half (fuzzed: tests/fuzz/agent).
 */
#ifndef PSEUDOPOD_AGENT_API_CLIENT_H
#define PSEUDOPOD_AGENT_API_CLIENT_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define API_CLIENT_REPLY_MAX  (16u * 1024u * 1024u)
#define API_CLIENT_TIMEOUT_MS 10000L

/* GET path_query ("/v1/flows?last=5") on the socket. why explains a nonzero return. */
int api_client_get(const char *socket_path, const char *path_query, long *status, json_t **body,
		   char *why, size_t why_len);

/* A reply body: a JSON object (every /v1 reply is one). */
bool api_client_parse_reply(const char *text, size_t len, json_t **out, char *why, size_t why_len);

/* Appends "&key=value" (or "?key=value" first), value URL-escaped. false when it does not
 * fit. */
bool api_client_query_add(char *url, size_t len, const char *key, const char *value);

/* The error message of a reply ({"error": "..."}), or a generic one. */
const char *api_client_error_text(const json_t *body);

/*
 * The socket to use: override if given, else [agent] api-socket of config_file, else of
 * /etc/pseudopod/pseudopod.conf when it exists, else the default. false with why when an
 * explicit config_file is bad; a bad default file only gives a warning on stderr (the
 * default socket is used).
 */
bool api_client_socket_path(const char *override, const char *config_file, char *out, size_t len,
			    char *why, size_t why_len);

/* Prints the CLI's message for a failed request to stderr; returns the exit code (1). */
int api_client_report(int err, const char *socket_path, const char *why);

/* api_client_get() for the CLI: 0 with *out set on a 2xx reply; otherwise prints the
 * message (daemon not running, its {"error"}, ...) on stderr and returns 1. */
int api_client_fetch(const char *socket_path, const char *path_query, json_t **out);

/* The options the API commands share: -o table|json, --socket, --config. */
struct api_client_opts {
	bool json;
	const char *socket_path, *config;
};
/* Their struct option entries (no terminator), handled by api_client_opt(). */
/* clang-format off */
#define API_CLIENT_OPTIONS_LONG                                                             \
	{ "output", required_argument, NULL, 'o' },                                         \
	{ "socket", required_argument, NULL, 'S' },                                         \
	{ "config", required_argument, NULL, 'c' },                                         \
	{ "help", no_argument, NULL, 'h' }
/* clang-format on */
/*
 * Handles one getopt_long() result c that is not a command's own option: -o, -S (--socket),
 * -c (--config), -h, or an unknown option. Returns -1 to go on parsing, else the exit code
 * (0 after -h printed usage; 2 after a bad -o value or an unknown option, with the message
 * "pseudopod CMD: ..." and usage on stderr).
 */
int api_client_opt(int c, const char *arg, struct api_client_opts *o, const char *cmd,
		   const char *usage);

#endif
