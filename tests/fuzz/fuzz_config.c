/* The configuration loader (SPEC section 7) from a buffer: libconfuse plus
 * our validation and line finding.  Files are never touched. */
#include "fuzz.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs = { 0 };
	struct config *c;
	char *buf;

	if (size > 64 * 1024)
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	c = config_parse_buf(buf, size, "fuzz.conf", &errs);
	/* either a configuration or at least one message, never both */
	FUZZ_ASSERT((c != NULL) == (errs.n == 0));
	for (size_t i = 0; i < errs.n; i++)
		FUZZ_ASSERT(errs.msgs[i] != NULL);
	if (c) {
		for (size_t i = 0; i < c->nservices; i++)
			FUZZ_ASSERT(config_find_service(c, c->services[i].name) != NULL);
		config_free(c);
	}
	config_errors_free(&errs);
	free(buf);
	return 0;
}
