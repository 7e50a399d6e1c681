// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer harness: the INI config parser on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(&cfg);
	if (config_load_string(&cfg, "fuzz.conf", text, err, sizeof(err)) == false)
		err[sizeof(err) - 1] = '\0';
	free(text);
	return 0;
}
