/* Tests for viewer/show/grid.c: the tiles of several senders cover the window without gaps or
 * overlaps, reflow with their number, and a zoomed tile takes the whole window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "grid.h"

/* For every count from 1 to 16 in an odd-sized window, every pixel of the filled rows is in
 * exactly one tile, and hit testing agrees with the rectangles. */
static void test_tiles_cover_once(void **state)
{
	static int owner[101][77];

	(void)state;
	for (int n = 1; n <= 16; n++) {
		for (int x = 0; x < 101; x++)
			for (int y = 0; y < 77; y++)
				owner[x][y] = -1;
		for (int i = 0; i < n; i++) {
			struct fc_grid_rect r = fc_grid_tile(n, -1, 101, 77, i);

			assert_true(r.w > 0 && r.h > 0);
			for (int x = r.x; x < r.x + r.w; x++)
				for (int y = r.y; y < r.y + r.h; y++) {
					assert_int_equal(owner[x][y], -1);
					owner[x][y] = i;
				}
		}
		for (int x = 0; x < 101; x++)
			for (int y = 0; y < 77; y++)
				assert_int_equal(fc_grid_hit(n, -1, 101, 77, x, y), owner[x][y]);
	}
}

/* Four senders make a 2x2 grid; a fifth reflows it to 3 columns; one makes the whole window. */
static void test_reflow(void **state)
{
	struct fc_grid_rect r;

	(void)state;
	r = fc_grid_tile(1, -1, 640, 480, 0);
	assert_true(r.x == 0 && r.y == 0 && r.w == 640 && r.h == 480);
	r = fc_grid_tile(4, -1, 640, 480, 3);
	assert_true(r.x == 320 && r.y == 240 && r.w == 320 && r.h == 240);
	r = fc_grid_tile(5, -1, 600, 480, 4);
	assert_true(r.x == 200 && r.y == 240 && r.w == 200 && r.h == 240);
	assert_int_equal(fc_grid_hit(5, -1, 600, 480, 599, 479), -1); /* the empty sixth cell */
	r = fc_grid_tile(4, -1, 640, 480, 4);
	assert_int_equal(r.w, 0);
}

/* Zoomed, one tile has the window and the others nothing; a zoom beyond the tiles is none. */
static void test_zoom(void **state)
{
	struct fc_grid_rect r;

	(void)state;
	r = fc_grid_tile(4, 2, 640, 480, 2);
	assert_true(r.x == 0 && r.y == 0 && r.w == 640 && r.h == 480);
	r = fc_grid_tile(4, 2, 640, 480, 0);
	assert_true(r.w == 0 && r.h == 0);
	assert_int_equal(fc_grid_hit(4, 2, 640, 480, 10, 10), 2);
	r = fc_grid_tile(2, 5, 640, 480, 1);
	assert_true(r.x == 320 && r.w == 320);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiles_cover_once),
		cmocka_unit_test(test_reflow),
		cmocka_unit_test(test_zoom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
