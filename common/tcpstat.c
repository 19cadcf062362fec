#include "tcpstat.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int fc_tcpstat_read(int fd, struct fc_tcpstat *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int queued = 0;

	memset(&ti, 0, sizeof(ti));
	memset(out, 0, sizeof(*out));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -1;
	/* A kernel older than a field leaves it zero (len says how much it filled): every user of
	 * these figures treats zero as "not known". */
	if (ioctl(fd, SIOCOUTQ, &queued) < 0)
		return -1;
	out->min_rtt_ns = (uint64_t)ti.tcpi_min_rtt * 1000;
	out->srtt_ns = (uint64_t)ti.tcpi_rtt * 1000;
	out->pending = queued > 0 ? (uint64_t)queued : 0;
	out->acked = ti.tcpi_bytes_acked;
	out->delivery_rate = ti.tcpi_delivery_rate;
	out->retrans = ti.tcpi_total_retrans;
	out->mss = ti.tcpi_snd_mss;
	out->app_limited = ti.tcpi_delivery_rate_app_limited;
	return 0;
}

int fc_tcpstat_lowat(int fd, unsigned bytes)
{
	return setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof(bytes));
}
