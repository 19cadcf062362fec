/*
 * grid: where each sender's tile goes in the viewer's window, when it shows several senders.
 * The tiles fill a grid of about the window's shape (columns = ceil(sqrt(n)), then as many rows
 * as it takes), in the order the senders came, and reflow whenever one comes or goes; one tile
 * may be zoomed to the whole window (a click on it, or its number key).
 *
 * Pure functions over sizes, no SDL: display.c draws with them and tests/test_grid.c checks
 * them. Any thread.
 */
#ifndef FC_GRID_H
#define FC_GRID_H

struct fc_grid_rect {
	int x, y, w, h;
};

/* Tile i's area (0 <= i < n) in a window of ww x wh split for n tiles; zoom >= 0: tile zoom has
 * the whole window and the others none (w = h = 0). */
struct fc_grid_rect fc_grid_tile(int n, int zoom, int ww, int wh, int i);

/* The tile at (x, y), or -1 for none (outside the grid, or an empty cell of the last row). */
int fc_grid_hit(int n, int zoom, int ww, int wh, int x, int y);

#endif
