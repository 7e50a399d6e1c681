// SPDX-License-Identifier: GPL-2.0-only
/* config: defaults, every key type, and the error messages users see for bad files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/config.h"

static char err[CONFIG_ERR_MAX];

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
}

static void test_all_types(void **state)
{
	struct config cfg;

	assert_true(load(&cfg, "[agent]\nmode = gateway\nname = gw-1\nfail-mode = closed\n"
			       "log-level = debug\n"
			       "[store]\nendpoints = http://10.0.0.1:2379\ntimeout-ms = 250\n"
			       "[tunnel]\nmode = vxlan\nwireguard-backend = userspace\n"
			       "vxlan-port = 4789\n"
			       "[datapath]\nhost-firewall = no\nconntrack-max = 2048\n"));
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
	{ "[agent]\nmode = router\n",
	  "test.conf:2: [agent] mode: 'router' is not valid, expected one of: workload, gateway" },
	{ "[agent]\nbogus = 1\n", "test.conf:2: [agent] bogus: unknown key in [agent] (see pseudopod.conf(5))" },
	{ "[agnet]\nmode = workload\n",
	  "test.conf:2: [agnet] mode: unknown section [agnet], expected [agent], [store], [tunnel] or [datapath]" },
	{ "[tunnel]\nwireguard-port = 70000\n",
	  "test.conf:2: [tunnel] wireguard-port: 70000 is out of range, expected an integer from 1 to 65535" },
	{ "[tunnel]\nwireguard-port = 5x\n",
	  "test.conf:2: [tunnel] wireguard-port: '5x' is not a number, expected an integer from 1 to 65535" },
	{ "[tunnel]\nmtu = -1\n",
	  "test.conf:2: [tunnel] mtu: '-1' is not a number, expected an integer from 0 to 65535" },
	{ "[datapath]\nhost-firewall = maybe\n",
	  "test.conf:2: [datapath] host-firewall: 'maybe' is not a boolean, expected on or off" },
	{ "[agent]\nstate-dir = var/lib\n",
	  "test.conf:2: [agent] state-dir: 'var/lib' is not an absolute path, expected a path starting with /" },
	{ "[agent]\nlog-level = loud\n",
	  "test.conf:2: [agent] log-level: 'loud' is not a log level, expected error, warn, info or debug" },
	{ "[tunnel]\ndevice = a-very-long-interface-name\n",
	  "test.conf:2: [tunnel] device: value is 26 characters long, expected at most 15" },
	{ "[agent]\nmode = gateway\n",
	  "test.conf: [agent] name: missing, required in gateway mode (the gateway's name in the store)" },
	{ "[agent]\nmode = gateway\nname = g\n",
	  "test.conf: [store] endpoints: missing, required in gateway mode (comma-separated etcd URLs)" },
	{ "[store]\ncert-file = /a.pem\n",
	  "test.conf: [store] key-file: missing, cert-file and key-file go together" },
	{ "[datapath]\nhost-firewall = on\n",
	  "test.conf: [datapath] host-firewall: on is not supported yet (the underlay host "
	  "firewall is planned), expected off" },
	{ "[store]\nprefix = pseudopod\n", "test.conf: [store] prefix: 'pseudopod' must start and end with /" },
	{ "[agent]\nthis line has no equals sign\n",
	  "test.conf:2: syntax error, expected '[section]', 'key = value' or a comment" },
	/* Only the first error is reported, with its own line number. */
	{ "[agent]\nmode = workload\nmode = nope\nfoo = bar\n",
	  "test.conf:3: [agent] mode: 'nope' is not valid, expected one of: workload, gateway" },
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
	assert_string_equal(err, "/nonexistent/pseudopod.conf: cannot open: No such file or directory");
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
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_shipped_example),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
