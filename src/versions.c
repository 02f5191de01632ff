#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "versions.h"

static const struct ku_version ku_versions[] = {
	{ .version = "1.35.0" },
	{
		.version = "1.20.2",
		.test_only = true,
		.note = "the release the simulated test machines run",
	},
};

const char *
ku_version_default(void)
{
	return ku_versions[0].version;
}

const struct ku_version *
ku_version_find(const char *version)
{
	for (size_t i = 0; i < KU_ARRAY_LEN(ku_versions); i++)
		if (strcmp(ku_versions[i].version, version) == 0)
			return &ku_versions[i];
	return NULL;
}

static bool
ku_parse_number(const char **s, int *out)
{
	const char *p = *s;
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return false;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return false;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		if (v > 100000)
			return false;
		p++;
	}
	*out = (int)v;
	*s = p;
	return true;
}

bool
ku_version_parse(const char *s, int *major, int *minor, int *patch)
{
	if (!ku_parse_number(&s, major) || *s++ != '.' ||
	    !ku_parse_number(&s, minor) || *s++ != '.' ||
	    !ku_parse_number(&s, patch))
		return false;
	return *s == '\0';
}
