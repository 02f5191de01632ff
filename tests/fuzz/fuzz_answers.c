/* The answers reader's fuzz target (libFuzzer's entry point).
 *
 * Any input must be read without a crash, a leak or undefined behaviour.
 * An input that reads cleanly must also survive the round trip: validated
 * again as it is, copied, written out and read back, it must give an
 * equal spec.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "answers.h"
#include "spec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Relative paths in the inputs resolve here; nothing is ever written. */
#define FUZZ_BASE_DIR "/tmp"

static void
fuzz_fail(const char *what, const struct ku_strv *keys,
    const struct ku_diags *diags)
{
	fprintf(stderr, "fuzz_answers: %s\n", what);
	for (size_t i = 0; keys && i < keys->n; i++)
		fprintf(stderr, "  differs: %s\n", keys->v[i]);
	for (size_t i = 0; diags && i < diags->n; i++) {
		char *line = ku_diag_format(&diags->v[i]);
		fprintf(stderr, "  %s\n", line);
		free(line);
	}
	abort();
}

static void
round_trip(const struct ku_spec *spec)
{
	struct ku_diags diags = { 0 };
	struct ku_strv keys = { 0 };
	struct ku_spec *copy, *again = NULL;
	struct ku_buf text;

	if (ku_spec_validate(spec, &diags) != KU_OK)
		fuzz_fail("a spec read cleanly does not validate", NULL, &diags);

	copy = ku_spec_dup(spec);
	ku_spec_diff(spec, copy, &keys);
	if (keys.n)
		fuzz_fail("ku_spec_dup() gave a different spec", &keys, NULL);
	ku_spec_free(copy);

	ku_buf_init(&text, 0);
	ku_answers_format(spec, &text);
	if (ku_answers_read_mem("written.conf", text.data, text.len,
	    FUZZ_BASE_DIR, &again, &diags) != KU_OK) {
		fprintf(stderr, "%s", text.data);
		fuzz_fail("the written answers do not read back", NULL, &diags);
	}
	ku_spec_diff(spec, again, &keys);
	if (keys.n) {
		fprintf(stderr, "%s", text.data);
		fuzz_fail("the written answers read back differently", &keys,
		    NULL);
	}
	ku_spec_free(again);
	ku_buf_free(&text);
	ku_strv_free(&keys);
	ku_diags_free(&diags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ku_diags diags = { 0 };
	struct ku_spec *spec = NULL;
	ku_rc rc;

	rc = ku_answers_read_mem("fuzz.conf", (const char *)data, size,
	    FUZZ_BASE_DIR, &spec, &diags);
	if (rc == KU_OK) {
		if (spec == NULL || diags.n != 0)
			fuzz_fail("success without a spec, or with problems",
			    NULL, &diags);
		round_trip(spec);
	} else if (spec != NULL || diags.n == 0) {
		fuzz_fail("failure without a problem, or with a spec", NULL,
		    &diags);
	}
	for (size_t i = 0; i < diags.n; i++) {
		char *line = ku_diag_format(&diags.v[i]);
		free(line);
	}
	ku_diags_free(&diags);
	ku_spec_free(spec);
	return 0;
}
