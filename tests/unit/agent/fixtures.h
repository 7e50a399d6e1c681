/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fixtures shared by the agent API tests and the fixture server (api_fixture.c): datapath
 * events, identity labels and rule origins, and /v1 callbacks standing in for pseudopodd's
 * state. The golden strings of test_flows.c and test_cli_api.sh are made from these.
 */
#ifndef PSEUDOPOD_TESTS_AGENT_FIXTURES_H
#define PSEUDOPOD_TESTS_AGENT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "agent/api.h"
#include "agent/flows.h"

/* 2026-11-29T11:40:01Z; fixture event i is at FIXTURE_T0 + i seconds + 123456789 ns. */
#define FIXTURE_T0_NS	 (1795952401ull * 1000000000ull)
#define FIXTURE_N_EVENTS 5

/* Event i (0..FIXTURE_N_EVENTS-1): see fixtures.c for what each one is. */
struct dp_event fixture_event(size_t i);
uint64_t fixture_time(size_t i);
extern const struct flows_lookup fixture_lookup;
extern const struct api_v1_ops fixture_ops;
/* Adds every fixture event to f. */
void fixture_fill(struct flows *f);

#endif
