/* Tests for common/station.c: which names a HELLO may carry, the host's default, and the name
 * made safe as a file name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "station.h"

/* Printable ASCII of 1..64 bytes passes; empty, too long or with a control byte is refused,
 * naming the option. */
static void test_check(void **state)
{
	char err[256];
	char long_name[FC_PROTO_MAX_STATION + 2];

	(void)state;
	assert_int_equal(fc_station_check("--name", "robot 7 (lab)", err, sizeof(err)), 0);
	assert_int_equal(fc_station_check("--name", "", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "--name"));
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(fc_station_check("--name", long_name, err, sizeof(err)), -1);
	long_name[FC_PROTO_MAX_STATION] = '\0';
	assert_int_equal(fc_station_check("--name", long_name, err, sizeof(err)), 0);
	assert_int_equal(fc_station_check("--name", "a\x1b[2Jb", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "character 2"));
	assert_int_equal(fc_station_check("--name", "caf\xc3\xa9", err, sizeof(err)), -1);
}

/* The default is a valid station name whatever the host is called. */
static void test_default_is_valid(void **state)
{
	char name[FC_PROTO_MAX_STATION + 1];
	char err[256];

	(void)state;
	fc_station_default(name, sizeof(name));
	assert_int_equal(fc_station_check("default", name, err, sizeof(err)), 0);
	assert_null(strchr(name, '.'));
}

/* File names: separators, dots at the start and anything odd are replaced; never empty. */
static void test_file(void **state)
{
	char out[FC_PROTO_MAX_STATION + 1];

	(void)state;
	fc_station_file("robot-7_a.b", out, sizeof(out));
	assert_string_equal(out, "robot-7_a.b");
	fc_station_file("../etc/passwd", out, sizeof(out));
	assert_string_equal(out, "_._etc_passwd");
	fc_station_file("..", out, sizeof(out));
	assert_string_equal(out, "_.");
	fc_station_file("lab cam $1", out, sizeof(out));
	assert_string_equal(out, "lab_cam__1");
	fc_station_file("", out, sizeof(out));
	assert_string_equal(out, "unnamed");
	fc_station_file("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_default_is_valid),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
