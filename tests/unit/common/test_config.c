// SPDX-License-Identifier: GPL-2.0-only
/* config: defaults, every key type, and the error messages users see for bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config.h"

static char err[CONFIG_ERR_MAX];

/* A regular file every checkout has. */
#define EXISTING PP_SOURCE_DIR "/packaging/pseudopod.conf"
#define LONG10	 "0123456789"
#define LONG100	 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10 LONG10
#define LONG200	 LONG100 LONG100

static bool load(struct config *cfg, const char *text)
{
	config_defaults(cfg);
	err[0] = '\0';
	return config_load_string(cfg, "test.conf", text, err, sizeof(err));
}

static void test_defaults(void **state)
{
	struct config cfg;

	assert_true(load(&cfg, ""));
	assert_int_equal(cfg.agent.mode, CONFIG_MODE_WORKLOAD);
	assert_string_equal(cfg.agent.bpffs_root, "/sys/fs/bpf/pseudopod");
	assert_string_equal(cfg.agent.metrics_address, "127.0.0.1:9962");
	assert_string_equal(cfg.store.prefix, "/pseudopod/v1/");
	assert_int_equal(cfg.tunnel.wg_port, 51871);
	assert_int_equal(cfg.tunnel.vxlan_port, 8472);
	assert_int_equal(cfg.datapath.policy_max, 16384);
	assert_int_equal(cfg.agent.fail_mode, CONFIG_FAIL_STATIC);
	assert_string_equal(cfg.gateway.underlay_address, "");
	assert_int_equal(cfg.gateway.listen_port, 0);
}

static void test_all_types(void **state)
{
	struct config cfg;

	assert_true(load(&cfg, "[agent]\nmode = gateway\nname = gw-1\nfail-mode = closed\n"
			       "log-level = debug\n"
			       "[store]\nendpoints = http://10.0.0.1:2379\ntimeout-ms = 250\n"
			       "[tunnel]\nmode = vxlan\nwireguard-backend = userspace\n"
			       "vxlan-port = 4789\n"
			       "[datapath]\nhost-firewall = no\nconntrack-max = 2048\n"
			       "[gateway]\nunderlay-address = 192.0.2.7\nlisten-port = 4790\n"));
	assert_string_equal(cfg.gateway.underlay_address, "192.0.2.7");
	assert_int_equal(cfg.gateway.listen_port, 4790);
	assert_int_equal(cfg.agent.mode, CONFIG_MODE_GATEWAY);
	assert_string_equal(cfg.agent.name, "gw-1");
	assert_int_equal(cfg.agent.fail_mode, CONFIG_FAIL_CLOSED);
	assert_int_equal(cfg.agent.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.store.timeout_ms, 250);
	assert_int_equal(cfg.tunnel.mode, CONFIG_TUNNEL_VXLAN);
	assert_int_equal(cfg.tunnel.wg_backend, CONFIG_WG_USERSPACE);
	assert_int_equal(cfg.tunnel.vxlan_port, 4789);
	assert_false(cfg.datapath.host_firewall);
	assert_int_equal(cfg.datapath.conntrack_max, 2048);
}

/* Each bad file and the exact message a user gets: file, line, [section] key, what's wrong. */
static const struct {
	const char *text;
	const char *message;
} bad_files[] = {
    {"[agent]\nmode = router\n",
     "test.conf:2: [agent] mode: 'router' is not valid, expected one of: workload, gateway"},
    {"[agent]\nbogus = 1\n",
     "test.conf:2: [agent] bogus: unknown key in [agent] (see pseudopod.conf(5))"},
    {"[agnet]\nmode = workload\n", "test.conf:2: [agnet] mode: unknown section [agnet], expected "
				   "[agent], [store], [tunnel], [datapath] or [gateway]"},
    {"[gateway]\nunderlay-address = 10.0.0.300\n",
     "test.conf:2: [gateway] underlay-address: '10.0.0.300': '10.0.0.300' is not an IPv4 "
     "address (this node's underlay address, e.g. 192.0.2.10)"},
    {"[gateway]\nunderlay-address = fd00::1\n",
     "test.conf:2: [gateway] underlay-address: 'fd00::1': 'fd00::1' is an IPv6 address, "
     "expected an IPv4 address (this node's underlay address, e.g. 192.0.2.10)"},
    {"[gateway]\nunderlay-address = 127.0.0.1\n",
     "test.conf:2: [gateway] underlay-address: '127.0.0.1' is not an address machines can "
     "reach (unspecified, loopback, multicast or reserved), expected this node's underlay "
     "IPv4 address"},
    {"[gateway]\nlisten-port = 65536\n",
     "test.conf:2: [gateway] listen-port: 65536 is out of range, expected an integer from 0 to "
     "65535"},
    {"[gateway]\nport = 1\n",
     "test.conf:2: [gateway] port: unknown key in [gateway] (see pseudopod.conf(5))"},
    {"[tunnel]\nwireguard-port = 70000\n", "test.conf:2: [tunnel] wireguard-port: 70000 is out of "
					   "range, expected an integer from 1 to 65535"},
    {"[tunnel]\nwireguard-port = 5x\n", "test.conf:2: [tunnel] wireguard-port: '5x' is not a "
					"number, expected an integer from 1 to 65535"},
    {"[tunnel]\nmtu = -1\n",
     "test.conf:2: [tunnel] mtu: '-1' is not a number, expected an integer from 0 to 65535"},
    {"[datapath]\nhost-firewall = maybe\n",
     "test.conf:2: [datapath] host-firewall: 'maybe' is not a boolean, expected on or off"},
    {"[agent]\nstate-dir = var/lib\n", "test.conf:2: [agent] state-dir: 'var/lib' is not an "
				       "absolute path, expected a path starting with /"},
    {"[agent]\nlog-level = loud\n", "test.conf:2: [agent] log-level: 'loud' is not a log level, "
				    "expected error, warn, info or debug"},
    {"[tunnel]\ndevice = a-very-long-interface-name\n",
     "test.conf:2: [tunnel] device: value is 26 characters long, expected at most 15"},
    {"[agent]\nmode = gateway\n", "test.conf: [agent] name: missing, required in gateway mode (the "
				  "gateway's name in the store)"},
    {"[agent]\nmode = gateway\nname = g\n",
     "test.conf: [store] endpoints: missing, required in gateway mode (comma-separated etcd URLs)"},
    {"[store]\ncert-file = " EXISTING "\n",
     "test.conf: [store] key-file: missing, cert-file and key-file go together"},
    {"[datapath]\nhost-firewall = on\n",
     "test.conf: [datapath] host-firewall: on is not supported yet (the underlay host "
     "firewall is planned), expected off"},
    {"[store]\nprefix = pseudopod\n",
     "test.conf: [store] prefix: 'pseudopod' must start and end with /"},
    {"[agent]\nthis line has no equals sign\n",
     "test.conf:2: syntax error, expected '[section]', 'key = value' or a comment"},
    /* Only the first error is reported, with its own line number. */
    {"[agent]\nname = a\nmode = nope\nfoo = bar\n",
     "test.conf:3: [agent] mode: 'nope' is not valid, expected one of: workload, gateway"},
    /* issue 10 item 8: each of these loaded (or failed far from the line) before */
    {"[agent]\nmode = workload\n\nmode = gateway\n",
     "test.conf:4: [agent] mode: set again, first set on line 2; expected each key once"},
    {"[agent]\nname = a\n  gateway\n",
     "test.conf:3: [agent] name: indented line continues the value of line 2; continuation "
     "lines are not supported, expected one 'key = value' line"},
    {"[tunnel]\ndevice = pp/0\n",
     "test.conf:2: [tunnel] device: 'pp/0' is not an interface name, expected at most 15 "
     "characters without '/', ':' or spaces, and not '.' or '..'"},
    {"[tunnel]\ndevice = ..\n",
     "test.conf:2: [tunnel] device: '..' is not an interface name, expected at most 15 "
     "characters without '/', ':' or spaces, and not '.' or '..'"},
    {"[tunnel]\nunderlay-device = eth0:1\n",
     "test.conf:2: [tunnel] underlay-device: 'eth0:1' is not an interface name, expected at "
     "most 15 characters without '/', ':' or spaces, and not '.' or '..'"},
    {"[tunnel]\ndevice = pp 0\n",
     "test.conf:2: [tunnel] device: 'pp 0' is not an interface name, expected at most 15 "
     "characters without '/', ':' or spaces, and not '.' or '..'"},
    {"[agent]\nmetrics-address = 127.0.0.1:70000\n",
     "test.conf:2: [agent] metrics-address: '127.0.0.1:70000': port 70000 is out of range, "
     "expected an integer from 1 to 65535"},
    {"[agent]\nmetrics-address = localhost:9962\n",
     "test.conf:2: [agent] metrics-address: 'localhost:9962': 'localhost' is not an IPv4 "
     "address (IPv6 in brackets: [::1]:9962)"},
    {"[agent]\nmetrics-address = 9962\n",
     "test.conf:2: [agent] metrics-address: '9962': expected ADDRESS:PORT, e.g. "
     "127.0.0.1:9962 or [::1]:9962"},
    {"[tunnel]\nmtu = 1000\n",
     "test.conf:2: [tunnel] mtu: 1000 is below 1280, the least a link carrying IPv6 may have "
     "(the overlay carries the cluster's families); 0 = the underlay MTU minus the overhead"},
    {"[tunnel]\nmtu = 65536\n",
     "test.conf:2: [tunnel] mtu: 65536 is out of range, expected an integer from 0 to 65535"},
    {"[store]\nendpoints = 10.0.0.1:2379\n",
     "test.conf:2: [store] endpoints: '10.0.0.1:2379' is not an http:// or https:// URL, "
     "expected comma-separated etcd client URLs like https://10.0.0.1:2379"},
    {"[store]\nendpoints = https://a:2379,,https://b:2379\n",
     "test.conf:2: [store] endpoints: '' is not an http:// or https:// URL, expected "
     "comma-separated etcd client URLs like https://10.0.0.1:2379"},
    {"[store]\nendpoints = https://a:2379, https://b:2379\n",
     "test.conf:2: [store] endpoints: ' https://b:2379' is not an http:// or https:// URL, "
     "expected comma-separated etcd client URLs like https://10.0.0.1:2379"},
    {"[store]\nendpoints = ftp://a:2379\n",
     "test.conf:2: [store] endpoints: 'ftp://a:2379' is not an http:// or https:// URL, "
     "expected comma-separated etcd client URLs like https://10.0.0.1:2379"},
    {"[store]\nca-file = /nonexistent/ca.pem\n",
     "test.conf:2: [store] ca-file: /nonexistent/ca.pem: No such file or directory"},
    {"[store]\npassword-file = /nonexistent/pw\n",
     "test.conf:2: [store] password-file: /nonexistent/pw: No such file or directory"},
    {"[store]\npassword-file = /\n", "test.conf:2: [store] password-file: /: not a regular file"},
    /* inih would cut this line at 199 and report a syntax error on line 4 */
    {"[agent]\n\nname = " LONG200 "\nmode = gateway\n",
     "test.conf:3: line is 207 characters long, expected at most 198"},
};

static void test_bad_files(void **state)
{
	struct config cfg;

	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		assert_false(load(&cfg, bad_files[i].text));
		if (strcmp(err, bad_files[i].message) != 0)
			fail_msg("case %zu:\n  got      '%s'\n  expected '%s'", i, err,
				 bad_files[i].message);
	}
}

static void test_missing_file(void **state)
{
	struct config cfg;

	config_defaults(&cfg);
	assert_false(config_load(&cfg, "/nonexistent/pseudopod.conf", err, sizeof(err)));
	assert_string_equal(err,
			    "/nonexistent/pseudopod.conf: cannot open: No such file or directory");
}

/* Paths that are not files fail at once, naming what they are (before: a FIFO hung the
 * reader, /dev/zero was read forever, a directory read as an empty file = defaults). */
static void test_not_a_file(void **state)
{
	char fifo[] = "/tmp/pp-test-config.XXXXXX", path[128];
	struct config cfg;

	config_defaults(&cfg);
	assert_false(config_load(&cfg, "/dev/zero", err, sizeof(err)));
	assert_string_equal(err, "/dev/zero: is a device, expected a regular file");
	assert_false(config_load(&cfg, "/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: is a directory, expected a regular file");
	assert_non_null(mkdtemp(fifo));
	snprintf(path, sizeof(path), "%s/fifo", fifo);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_false(config_load(&cfg, path, err, sizeof(err)));
	unlink(path);
	rmdir(fifo);
	snprintf(path, sizeof(path), "%s/fifo: is a FIFO, expected a regular file", fifo);
	assert_string_equal(err, path);
}

/* The longest line inih holds still loads; the limit is inih's, not ours. */
static void test_longest_line(void **state)
{
	struct config cfg;
	char text[300];

	/* "name = " is 7 characters: 191 more make 198 */
	snprintf(text, sizeof(text),
		 "[agent]\nname = %.191s\nmode = gateway\n"
		 "[store]\nendpoints = http://a:2379\n",
		 LONG200);
	if (!load(&cfg, text))
		fail_msg("%s", err);
	assert_int_equal(strlen(cfg.agent.name), 191);
	assert_int_equal(cfg.agent.mode, CONFIG_MODE_GATEWAY);
}

/* The shipped example must load as it is: it documents the defaults. */
static void test_shipped_example(void **state)
{
	struct config cfg, defaults;

	config_defaults(&cfg);
	config_defaults(&defaults);
	if (!config_load(&cfg, PP_SOURCE_DIR "/packaging/pseudopod.conf", err, sizeof(err)))
		fail_msg("%s", err);
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	    cmocka_unit_test(test_all_types),
	    cmocka_unit_test(test_bad_files),	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_not_a_file),	    cmocka_unit_test(test_longest_line),
	    cmocka_unit_test(test_shipped_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
