/*
 * ws_host: the WebSocket bridge (sender/serve/ws.c) in a libwebsockets context of the test's own,
 * for the web tests until freshcam-send serves HTTP itself: the test pattern, a viewer server on
 * a loopback port, and one lws context on another that serves web/ at / and bridges /ws.
 *
 *   ws_host WEB_DIR [MAX_VIEWERS]
 *
 * Prints "ws_host: http PORT tcp PORT" once both listen, then twice a second the viewer list as
 * fc_server_stats gives it ("viewers N: PEER sent S accepted A too_old T; ..." and "departed D
 * others O"). SIGTERM stops it in the order the sender does (ws.h, fc_ws_stop_adopting): every
 * session says BYE, which the bridge passes on while lws still runs on its own thread.
 *
 * No HTTP parser here: lws serves the files (a mount) and the upgrade.
 */
#include <libwebsockets.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "clock.h"
#include "server.h"
#include "ws.h"

static volatile sig_atomic_t stopping;
static atomic_bool lws_done;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The lws service thread, as the sender's HTTP server has one. */
static void *service(void *arg)
{
	struct lws_context *ctx = arg;

	while (!atomic_load(&lws_done) && lws_service(ctx, 0) >= 0)
		;
	return NULL;
}

/* What the tests read: the viewers the server lists, and those gone. */
static void print_viewers(struct fc_server *srv)
{
	struct fc_viewer_stats v[16];
	struct fc_session_stats gone;
	unsigned others = 0, departed;
	int n = fc_server_stats(srv, v, 16);

	printf("viewers %d:", n);
	for (int i = 0; i < n; i++)
		printf(" %s sent %llu accepted %llu too_old %llu;", v[i].peer,
		       (unsigned long long)v[i].s.sent, (unsigned long long)v[i].s.accepted,
		       (unsigned long long)v[i].s.too_old);
	departed = fc_server_departed(srv, &gone, &others);
	printf("\ndeparted %u others %u\n", departed, others);
	fflush(stdout);
}

static struct lws_context *start_lws(const char *web, struct fc_ws *ws)
{
	static struct lws_protocols protocols[3];
	static struct lws_http_mount mount;
	struct lws_context_creation_info info;

	protocols[0] = (struct lws_protocols){ "http", lws_callback_http_dummy, 0, 0, 0, NULL, 0 };
	protocols[1] = (struct lws_protocols){ FC_WS_PROTOCOL_NAME,
					       fc_ws_callback,
					       FC_WS_PER_SESSION_SIZE,
					       FC_WS_RX_BUFFER_SIZE,
					       0,
					       ws,
					       0 };
	mount = (struct lws_http_mount){ .mountpoint = "/",
					 .mountpoint_len = 1,
					 .origin = web,
					 .def = "index.html",
					 .origin_protocol = LWSMPRO_FILE };
	memset(&info, 0, sizeof(info));
	info.port = 0; /* any free port: the tests read it from the first line */
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	info.mounts = &mount;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	return lws_create_context(&info);
}

int main(int argc, char **argv)
{
	struct fc_ladder ladder;
	struct fc_capture_cfg ccfg = { .width = 320,
				       .height = 240,
				       .fps_milli = 30000,
				       .quality = 80,
				       .ladder = &ladder,
				       .renditions = true };
	struct fc_capture_info info;
	struct fc_slot *slot = fc_slot_new();
	struct fc_capture *cap;
	struct fc_server_cfg scfg = { 0 };
	struct sigaction sa = { .sa_handler = on_term };
	struct lws_context *ctx;
	struct fc_server *srv;
	struct fc_ws *ws;
	pthread_t thread;
	enum fc_v4l2_failure why;
	char err[256];

	if (argc < 2 || !slot) {
		fprintf(stderr, "usage: ws_host WEB_DIR [MAX_VIEWERS]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
	cap = fc_capture_start(&ccfg, slot, &info, &why, err, sizeof(err));
	if (!cap) {
		fprintf(stderr, "ws_host: %s\n", err);
		return 1;
	}
	snprintf(scfg.addr.host, sizeof(scfg.addr.host), "127.0.0.1"); /* port 0: any */
	scfg.max_viewers = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 8;
	scfg.session = (struct fc_session_cfg){
		.slot = slot,
		.ladder = &ladder,
		.period_ns = FC_NS_PER_S / 30,
		.hello = { .role = FC_ROLE_SENDER,
			   .codec = FC_CODEC_JPEG,
			   .width = 320,
			   .height = 240,
			   .fps_milli = 30000,
			   .name = "ws_host" },
		.io_timeout_ms = 2000,
		.idle_timeout_ms = 5000,
	};
	srv = fc_server_start(&scfg, err, sizeof(err));
	ws = srv ? fc_ws_new(srv, err, sizeof(err)) : NULL;
	ctx = ws ? start_lws(argv[1], ws) : NULL;
	if (!ctx) {
		fprintf(stderr, "ws_host: %s\n", ws ? "lws_create_context failed" : err);
		return 1;
	}
	printf("ws_host: http %d tcp %u\n",
	       lws_get_vhost_port(lws_get_vhost_by_name(ctx, "default")), fc_server_port(srv));
	fflush(stdout);
	if (pthread_create(&thread, NULL, service, ctx)) {
		fprintf(stderr, "ws_host: cannot start the lws thread\n");
		return 1;
	}
	while (!stopping) {
		print_viewers(srv);
		fc_clock_sleep_until(fc_clock_now_ns() + 500 * FC_NS_PER_MS);
	}
	/* The sender's order: no new sessions, then every session says BYE while lws passes each
	 * on, then a moment for the pages to close, then lws goes. */
	fc_ws_stop_adopting(ws);
	fc_server_stop(srv);
	fc_clock_sleep_until(fc_clock_now_ns() + 500 * FC_NS_PER_MS);
	atomic_store(&lws_done, true);
	lws_cancel_service(ctx);
	pthread_join(thread, NULL);
	lws_context_destroy(ctx);
	fc_ws_free(ws);
	fc_capture_stop(cap);
	fc_slot_free(slot);
	return 0;
}
