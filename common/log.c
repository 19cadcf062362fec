#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "clock.h"

static const char *log_program = "freshcam";
static enum fc_log_level log_max = FC_LOG_INFO;
static uint64_t log_start_ns;

void fc_log_init(const char *program, enum fc_log_level max_level)
{
	log_program = program;
	log_max = max_level;
	log_start_ns = fc_clock_now_ns();
}

void fc_log(enum fc_log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error: ", "warning: ", "", "debug: " };
	char line[1024];
	uint64_t t = fc_clock_now_ns() - log_start_ns;
	va_list ap;
	int n;
	int m;

	if (level > log_max)
		return;
	n = snprintf(line, sizeof(line), "%s [%6.1fs] %s", log_program, (double)t / 1e9,
		     tags[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write() per line: atomic with respect to the other threads' lines. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
