/* grid: where each tile goes. See grid.h. */
#include "grid.h"

/* The columns for n tiles: the smallest square grid that holds them (2 for 2..4, 3 for 5..9). */
static int columns(int n)
{
	int c = 1;

	while (c * c < n)
		c++;
	return c;
}

struct fc_grid_rect fc_grid_tile(int n, int zoom, int ww, int wh, int i)
{
	struct fc_grid_rect r = { 0, 0, 0, 0 };
	int cols, rows;

	if (n <= 0 || i < 0 || i >= n)
		return r;
	if (zoom >= 0 && zoom < n) {
		if (i == zoom)
			r = (struct fc_grid_rect){ 0, 0, ww, wh };
		return r;
	}
	cols = columns(n);
	rows = (n + cols - 1) / cols;
	/* Edges from the products, so that the tiles meet without gaps or overlaps. */
	r.x = ww * (i % cols) / cols;
	r.y = wh * (i / cols) / rows;
	r.w = ww * (i % cols + 1) / cols - r.x;
	r.h = wh * (i / cols + 1) / rows - r.y;
	return r;
}

int fc_grid_hit(int n, int zoom, int ww, int wh, int x, int y)
{
	for (int i = 0; i < n; i++) {
		struct fc_grid_rect r = fc_grid_tile(n, zoom, ww, wh, i);

		if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h)
			return i;
	}
	return -1;
}
