#include "station.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool printable(char c)
{
	return c >= 0x20 && c <= 0x7e;
}

int fc_station_check(const char *option, const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > FC_PROTO_MAX_STATION) {
		snprintf(err, errlen, "%s '%s': a name is 1 to %d characters", option, name,
			 FC_PROTO_MAX_STATION);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!printable(name[i])) {
			snprintf(err, errlen,
				 "%s: character %zu is not printable ASCII; use letters, digits "
				 "and punctuation",
				 option, i + 1);
			return -1;
		}
	}
	return 0;
}

void fc_station_default(char *out, size_t outlen)
{
	char host[256] = "";
	size_t n;

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (strlen(host) > FC_PROTO_MAX_STATION)
		host[FC_PROTO_MAX_STATION] = '\0';
	for (n = 0; host[n]; n++)
		if (!printable(host[n]))
			host[n] = '-';
	snprintf(out, outlen, "%s", host[0] ? host : "freshcam");
}

static bool file_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

void fc_station_file(const char *name, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return;
	for (i = 0; name[i] && i < FC_PROTO_MAX_STATION && i + 1 < outlen; i++)
		out[i] = file_char(name[i]) ? name[i] : '_';
	out[i] = '\0';
	/* "." and ".." name directories, and a leading dot hides the file: neither is a name. */
	if (out[0] == '.')
		out[0] = '_';
	if (out[0] == '\0')
		snprintf(out, outlen, "unnamed");
}
