/*
 * The one place the capture code meets ioctl(): a file of its own so that the unit tests can
 * replace it with the linker's --wrap and play a camera (tests/test_v4l2.c).
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "v4l2.h"

int fc_v4l2_xioctl(int fd, unsigned long request, void *arg)
{
	int rc;

	do {
		rc = ioctl(fd, request, arg);
	} while (rc < 0 && errno == EINTR);
	return rc;
}
