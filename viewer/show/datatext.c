/* datatext: a frame's document as a few lines for the window. See datatext.h. */
#include "datatext.h"

#include <string.h>

#define ELLIPSIS     "..."
#define ELLIPSIS_LEN 3

/* The next character to draw from doc at *at, which moves past it: printable ASCII as it is;
 * anything else one '?', a multi-byte UTF-8 character with all its bytes. */
static char next_char(const uint8_t *doc, size_t size, size_t *at)
{
	uint8_t b = doc[(*at)++];

	if (b >= 0x20 && b < 0x7f)
		return (char)b;
	if (b >= 0xc0) /* a lead byte: its continuation bytes are the same character */
		while (*at < size && (doc[*at] & 0xc0) == 0x80)
			(*at)++;
	return '?';
}

/* One line from doc at *at into line (up to cols characters); returns its length. A line that
 * is full while more follows ends after its last comma, if that is in its second half, so that
 * a member of an object or an array is rarely split. */
static int take_line(const uint8_t *doc, size_t size, size_t *at, int cols, char *line)
{
	size_t after[FC_DATATEXT_MAX_COLS]; /* where the document goes on after each character */
	int n = 0;
	int brk = 0;

	while (n < cols && *at < size) {
		line[n] = next_char(doc, size, at);
		after[n] = *at;
		if (line[n++] == ',')
			brk = n;
	}
	if (n == cols && *at < size && brk >= cols / 2) {
		n = brk;
		*at = after[brk - 1];
	}
	return n;
}

int fc_datatext_layout(const uint8_t *doc, size_t size, int cols, int lines,
		       char out[FC_DATATEXT_MAX])
{
	int len[FC_DATATEXT_MAX_LINES];
	int n = 0;
	int widest = 0;
	size_t at = 0;

	out[0] = '\0';
	cols = cols > FC_DATATEXT_MAX_COLS ? FC_DATATEXT_MAX_COLS : cols;
	lines = lines > FC_DATATEXT_MAX_LINES ? FC_DATATEXT_MAX_LINES : lines;
	if (!doc || size == 0 || cols < ELLIPSIS_LEN + 1 || lines < 1)
		return 0;
	/* Each line at its own stride first (cols + 1), packed to the widest below. */
	while (n < lines && at < size) {
		len[n] = take_line(doc, size, &at, cols, out + n * (cols + 1));
		n++;
	}
	if (at < size) { /* more than fits: cut, and say so */
		char *last = out + (n - 1) * (cols + 1);

		len[n - 1] = len[n - 1] > cols - ELLIPSIS_LEN ? cols - ELLIPSIS_LEN : len[n - 1];
		memcpy(last + len[n - 1], ELLIPSIS, ELLIPSIS_LEN);
		len[n - 1] += ELLIPSIS_LEN;
	}
	for (int i = 0; i < n; i++)
		widest = len[i] > widest ? len[i] : widest;
	/* Packed in order: line i moves from i * (cols + 1) down to i * (widest + 1), never past a
	 * line not yet moved. */
	for (int i = 0; i < n; i++) {
		char *to = out + i * (widest + 1);

		memmove(to, out + i * (cols + 1), (size_t)len[i]);
		memset(to + len[i], ' ', (size_t)(widest - len[i]));
		to[widest] = i + 1 < n ? '\n' : '\0';
	}
	return n;
}
