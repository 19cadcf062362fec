/*
 * log: the console voice of the two programs. Only the mains and their thread loops call it;
 * library code (common/, capture, codec) returns errors instead (docs/STYLE.md, 5).
 *
 * Each line goes to stderr in one write, prefixed with the program name and the time since
 * start, so lines from several threads never interleave mid-line. fc_log_init is called once
 * from main before any thread starts; everything else is thread-safe.
 */
#ifndef FC_LOG_H
#define FC_LOG_H

enum fc_log_level { FC_LOG_ERROR, FC_LOG_WARN, FC_LOG_INFO, FC_LOG_DEBUG };

void fc_log_init(const char *program, enum fc_log_level max_level);

void fc_log(enum fc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fc_error(...) fc_log(FC_LOG_ERROR, __VA_ARGS__)
#define fc_warn(...)  fc_log(FC_LOG_WARN, __VA_ARGS__)
#define fc_info(...)  fc_log(FC_LOG_INFO, __VA_ARGS__)
#define fc_debug(...) fc_log(FC_LOG_DEBUG, __VA_ARGS__)

#endif
